// Package e2e holds MaxRouter's end-to-end tests: real clients installed
// from npm (the official TypeScript SDK, the openai package and the claude
// CLI) talk to a real daemon, which talks to the fake Anthropic API of
// core/anthropictest. TestClaudeCodeThroughSetup also builds and runs the
// maxrouter command itself (headless), for `maxrouter setup claude`.
// Everything runs on loopback in temporary directories; the package has no
// code of its own.
//
// The npm clients live in testdata/sdk, testdata/openai and
// testdata/claude, each with a committed package-lock.json. CI installs
// them with
//
//	npm ci --no-audit --no-fund --prefix core/e2e/testdata/sdk
//	npm ci --no-audit --no-fund --prefix core/e2e/testdata/claude
//	npm ci --no-audit --no-fund --prefix core/e2e/testdata/openai
//
// and the tests run `npm ci` themselves when node_modules is missing. When
// node or npm is not there, or the install fails, they skip with the
// reason; under CI=true they fail instead, so that CI cannot pass without
// them. The claude CLI is a native binary: once installed it needs no node.
package e2e
