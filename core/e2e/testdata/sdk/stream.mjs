// Streams one message through ANTHROPIC_BASE_URL with the official SDK and
// prints, one JSON object a line, each text delta as it arrives
// ({"delta": text, "ms": milliseconds since the request started}) and then
// the final message ({"final": message}). Retries are off so that a failover
// the client sees would show as an error, not be hidden by the SDK.
import Anthropic from '@anthropic-ai/sdk';

const client = new Anthropic({
  baseURL: process.env.ANTHROPIC_BASE_URL,
  authToken: process.env.ANTHROPIC_AUTH_TOKEN,
  apiKey: null,
  maxRetries: 0,
  timeout: 30_000,
});

const start = performance.now();
const ms = () => Math.round(performance.now() - start);
const stream = client.messages.stream({
  model: 'claude-sonnet-4-5',
  max_tokens: 64,
  messages: [{ role: 'user', content: 'Count to five.' }],
});
stream.on('text', (delta) => {
  console.log(JSON.stringify({ delta, ms: ms() }));
});
const final = await stream.finalMessage();
console.log(JSON.stringify({ final, ms: ms() }));
