package usage

// Tokens is the token usage one upstream answer reported (its "usage"
// object; for a stream, message_start's with message_delta's output).
type Tokens struct {
	Input         int64
	Output        int64
	CacheRead     int64
	CacheCreation int64
}
