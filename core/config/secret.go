package config

// maskMark separates the fixed prefix of a masked token from its last
// characters.
const maskMark = "…"

// MaskToken returns the form of an account token that may be shown:
// "sk-ant-oat01-…" followed by its last 4 characters ("sk-ant-oat01-…" alone
// for a token too short to spare them). "" stays "".
func MaskToken(token string) string {
	if token == "" {
		return ""
	}
	const prefix = "sk-ant-oat01-" + maskMark
	if len(token) < 16 {
		return prefix
	}
	return prefix + token[len(token)-4:]
}

// Redacted returns a copy of c whose account tokens are masked (see
// MaskToken), for showing or serving. c is not modified.
func (c Config) Redacted() Config {
	c.Accounts = cloneAccounts(c.Accounts)
	for i := range c.Accounts {
		c.Accounts[i].Token = MaskToken(c.Accounts[i].Token)
	}
	return c
}

// MergeSecrets returns next with the real tokens of prev put back where next
// carries a masked one, so that a configuration read with Redacted, edited
// and sent back keeps its tokens. An account's masked token is matched
// against the same-named account of prev, or, when the account was renamed,
// against the one account of prev whose token masks to the same text. A
// masked token that matches nothing is left as is (and fails Validate).
// Neither argument is modified.
func MergeSecrets(next, prev Config) Config {
	next.Accounts = cloneAccounts(next.Accounts)
	for i, a := range next.Accounts {
		if a.Token == "" {
			continue
		}
		if p, ok := prev.Account(a.Name); ok && p.Token != "" && MaskToken(p.Token) == a.Token {
			next.Accounts[i].Token = p.Token
			continue
		}
		var match []string
		for _, p := range prev.Accounts {
			if p.Token != "" && MaskToken(p.Token) == a.Token {
				match = append(match, p.Token)
			}
		}
		if len(match) == 1 {
			next.Accounts[i].Token = match[0]
		}
	}
	return next
}

// cloneAccounts copies accounts deeply enough that changing the copy's
// fields, Enabled included, leaves the original alone.
func cloneAccounts(accounts []Account) []Account {
	if accounts == nil {
		return nil
	}
	out := make([]Account, len(accounts))
	for i, a := range accounts {
		if a.Enabled != nil {
			v := *a.Enabled
			a.Enabled = &v
		}
		out[i] = a
	}
	return out
}
