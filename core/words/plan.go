package words

import "strings"

// Plan names an account's subscription for people: "Max 20x", "Max 5x",
// "Pro", "Team"; "" when neither the subscription type nor the rate-limit
// tier says. The tier ("default_claude_max_20x") is more precise than the
// type ("max") and wins when it names a Max multiplier.
func Plan(subscription, tier string) string {
	sub := strings.ToLower(strings.TrimSpace(subscription))
	if i := strings.Index(strings.ToLower(tier), "max_"); i >= 0 && (sub == "" || sub == "max") {
		mult := tier[i+4:]
		if j := strings.IndexByte(mult, '_'); j >= 0 {
			mult = mult[:j]
		}
		if mult != "" && strings.HasSuffix(mult, "x") {
			return "Max " + mult
		}
	}
	if sub == "" {
		if strings.Contains(strings.ToLower(tier), "_pro") {
			return "Pro"
		}
		return ""
	}
	return strings.ToUpper(sub[:1]) + sub[1:]
}
