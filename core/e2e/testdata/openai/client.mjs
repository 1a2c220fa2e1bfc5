// Runs one step against OPENAI_BASE_URL with the official openai package
// and prints what it got, one JSON object a line. Retries are off, so a
// failover the client saw would show as an error, not be hidden by the SDK.
//
//   node client.mjs chat          chat.completions.create          {"completion": …}
//   node client.mjs chat-stream   … with stream: true              {"delta", "ms"}… then {"chunks", "usage", "finish"}
//   node client.mjs tools         a tool call and its result       {"call": …} then {"completion": …}
//   node client.mjs responses     responses.create                 {"response": …}
//   node client.mjs responses-stream  … with stream: true          {"event", "ms"}… then {"response": …}
//   node client.mjs models        models.list                      {"models": […]}
//   node client.mjs error MODEL   a request that fails             {"error": {"status", "type", "code", "message", "retryAfter"}}
import OpenAI from 'openai';

const client = new OpenAI({
  baseURL: process.env.OPENAI_BASE_URL,
  apiKey: process.env.OPENAI_API_KEY,
  maxRetries: 0,
  timeout: 30_000,
});
const out = (v) => console.log(JSON.stringify(v));
const start = performance.now();
const ms = () => Math.round(performance.now() - start);
const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

switch (process.argv[2]) {
  case 'chat': {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello.' }],
    });
    out({ completion });
    break;
  }
  case 'chat-stream': {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Count to five.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let chunks = 0, usage = null, finish = null;
    for await (const chunk of stream) {
      chunks++;
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        if (choice.delta.content) out({ delta: choice.delta.content, ms: ms() });
        if (choice.finish_reason) finish = choice.finish_reason;
      }
    }
    out({ chunks, usage, finish });
    break;
  }
  case 'tools': {
    const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
    const first = await client.chat.completions.create({ model: 'gpt-4o', messages, tools: [weather] });
    const call = first.choices[0].message.tool_calls[0];
    out({ call, finish: first.choices[0].finish_reason });
    messages.push(first.choices[0].message);
    messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify({ sky: 'sunny', celsius: 24 }) });
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages, tools: [weather] });
    out({ completion });
    break;
  }
  case 'responses': {
    const response = await client.responses.create({ model: 'gpt-4o', instructions: 'Be brief.', input: 'Say hello.' });
    out({ response, text: response.output_text });
    break;
  }
  case 'responses-stream': {
    const stream = client.responses.stream({ model: 'gpt-4o', input: 'Count to five.' });
    stream.on('event', (event) => out({ event: event.type, delta: event.delta ?? null, ms: ms() }));
    const response = await stream.finalResponse();
    out({ response, text: response.output_text });
    break;
  }
  case 'models': {
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    out({ models });
    break;
  }
  case 'error': {
    try {
      await client.chat.completions.create({ model: process.argv[3], messages: [{ role: 'user', content: 'hi' }] });
      out({ error: null });
    } catch (e) {
      out({ error: { status: e.status, type: e.type, code: e.code, message: e.message, retryAfter: e.headers?.get('retry-after') ?? null, name: e.constructor.name } });
    }
    break;
  }
  default:
    throw new Error(`unknown step ${process.argv[2]}`);
}
