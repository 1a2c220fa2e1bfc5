package words

// Strategy names a routing strategy (a config value: "round-robin",
// "priority", "least-used", "headroom") for people: "Round-robin",
// "Priority", "Least used", "Most headroom". An unknown value is returned
// as it is.
func Strategy(value string) string {
	switch value {
	case "round-robin":
		return "Round-robin"
	case "priority":
		return "Priority"
	case "least-used":
		return "Least used"
	case "headroom":
		return "Most headroom"
	}
	return value
}
