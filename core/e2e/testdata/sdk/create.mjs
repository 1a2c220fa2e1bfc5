// Sends one non-streaming message and one token count through
// ANTHROPIC_BASE_URL with the official SDK and prints both answers, one JSON
// object a line: {"message": …} then {"count": …}.
import Anthropic from '@anthropic-ai/sdk';

const client = new Anthropic({
  baseURL: process.env.ANTHROPIC_BASE_URL,
  authToken: process.env.ANTHROPIC_AUTH_TOKEN,
  apiKey: null,
  maxRetries: 0,
  timeout: 30_000,
});

const params = {
  model: 'claude-sonnet-4-5',
  messages: [{ role: 'user', content: 'Say hello.' }],
};
const message = await client.messages.create({ ...params, max_tokens: 64 });
console.log(JSON.stringify({ message }));
const count = await client.messages.countTokens(params);
console.log(JSON.stringify({ count }));
