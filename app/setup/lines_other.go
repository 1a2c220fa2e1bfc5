//go:build !windows

package setup

// setupLines are the shell exports pointing Claude Code at base with token.
func setupLines(base, token string) string {
	return "export ANTHROPIC_BASE_URL=" + base + "\nexport ANTHROPIC_AUTH_TOKEN=" + token + "\n"
}
