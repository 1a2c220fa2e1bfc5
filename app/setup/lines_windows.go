package setup

// setupLines are PowerShell assignments pointing Claude Code at base with
// token.
func setupLines(base, token string) string {
	return "$env:ANTHROPIC_BASE_URL = \"" + base + "\"\n$env:ANTHROPIC_AUTH_TOKEN = \"" + token + "\"\n"
}
