import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * An in-process HTTP server standing in for a provider API (SendGrid, Twilio, Stripe): the real SDK
 * talks to it, the test reads what was sent and decides what the provider answers.
 */
export class FakeProvider {
  readonly requests: RecordedRequest[] = [];
  // Next answers; when empty, `fallback` answers.
  readonly queue: { status: number; body?: unknown; headers?: Record<string, string> }[] = [];
  fallback: { status: number; body?: unknown; headers?: Record<string, string> } = { status: 202, headers: { 'x-message-id': 'fake-msg-1' } };
  private server: Server | null = null;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const answer = this.queue.shift() ?? this.fallback;
        res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    return `http://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
