// A local HTTP server standing in for a webhook endpoint: records every delivery (headers and raw body) and
// answers with whatever `respond` says (default 200).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  event: { id: string; type: string; [k: string]: any };
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Status for each delivery (called with the delivery's index); 'hang' never answers; 'reset' drops the connection. */
  respond: (index: number, r: Received) => number | 'hang' | 'reset';
  /** TCP connections the emulator opened to this endpoint. */
  connections: number;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const receiver: Receiver = {
    url: '',
    received,
    respond: () => 200,
    connections: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const r: Received = { headers: req.headers, body, event: JSON.parse(body) };
      received.push(r);
      const status = receiver.respond(received.length - 1, r);
      if (status === 'hang') return;
      if (status === 'reset') {
        req.socket.destroy();
        return;
      }
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
  });
  server.on('connection', () => {
    receiver.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}
