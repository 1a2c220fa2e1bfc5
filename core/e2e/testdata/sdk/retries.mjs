// Sends one non-streaming message through ANTHROPIC_BASE_URL with the
// official SDK and its default retry policy (2 retries, honouring
// retry-after and x-should-retry), counting the HTTP attempts it makes, and
// prints one JSON object: {"message": …, "attempts": n, "ms": …} or
// {"error": {"status", "name", "type", "message", "retryAfter",
// "shouldRetry"}, "attempts": n, "ms": …}.
import Anthropic from '@anthropic-ai/sdk';

let attempts = 0;
const client = new Anthropic({
  baseURL: process.env.ANTHROPIC_BASE_URL,
  authToken: process.env.ANTHROPIC_AUTH_TOKEN,
  apiKey: null,
  maxRetries: 2,
  timeout: 30_000,
  fetch: (url, init) => {
    attempts++;
    return fetch(url, init);
  },
});

const start = performance.now();
const ms = () => Math.round(performance.now() - start);
try {
  const message = await client.messages.create({
    model: 'claude-sonnet-4-5',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'Say hello.' }],
  });
  console.log(JSON.stringify({ message, attempts, ms: ms() }));
} catch (e) {
  console.log(JSON.stringify({
    error: {
      status: e.status ?? null,
      name: e.constructor.name,
      type: e.error?.error?.type ?? null,
      message: e.error?.error?.message ?? e.message,
      retryAfter: e.headers?.get('retry-after') ?? null,
      shouldRetry: e.headers?.get('x-should-retry') ?? null,
    },
    attempts,
    ms: ms(),
  }));
}
