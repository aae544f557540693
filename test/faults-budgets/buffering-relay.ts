import { connect, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
  /** Bytes the client sent during a partition, not yet delivered. */
  held: Buffer[];
  holding: boolean;
  clientEnded: boolean;
}

/**
 * A TCP relay whose partition behaves like a real network's: bytes sent during it are not lost, they are
 * retransmitted and delivered once it heals, possibly long after the sender gave up on them (TCP backs off
 * exponentially: a connection's next retransmission can come seconds after the path is back, while new
 * connections go through at once). `partition()` holds every byte clients send on existing connections and
 * leaves new connections unanswered; `heal(lateMs)` lets new traffic through now and delivers what was held
 * `lateMs` later, followed by the client's FIN if it had closed meanwhile. Answers to held bytes go back
 * to clients that may no longer listen.
 */
export class BufferingRelay {
  #server: Server | undefined;
  readonly #pairs = new Set<Pair>();
  #partitioned = false;
  #port = 0;
  #marker: Buffer | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Connections accepted into a partition, never answered: destroyed on stop. */
  readonly #stranded = new Set<Socket>();

  constructor(
    readonly targetHost: string,
    readonly targetPort: number,
  ) {}

  get port(): number {
    return this.#port;
  }

  async start(): Promise<void> {
    const server = createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('relay has no TCP address');
    this.#port = address.port;
    this.#server = server;
  }

  partition(): void {
    this.#partitioned = true;
    for (const pair of this.#pairs) pair.holding = true;
  }

  /**
   * The network fails at the moment a client sends `marker` (say, a key id bound as a parameter): that
   * request and everything after it is held, on every connection, as by `partition()`.
   */
  partitionWhenSent(marker: string): void {
    this.#marker = Buffer.from(marker);
  }

  /** New traffic flows now; what was held is delivered `lateMs` later. */
  heal(lateMs: number): void {
    this.#partitioned = false;
    this.#marker = undefined;
    for (const pair of this.#pairs) {
      if (!pair.holding) continue;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        pair.holding = false;
        const upstream = pair.upstream;
        if (!upstream || upstream.destroyed) return;
        for (const chunk of pair.held.splice(0)) upstream.write(chunk);
        if (pair.clientEnded) upstream.end();
      }, lateMs);
      this.#timers.add(timer);
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    this.#pairs.clear();
    for (const socket of this.#stranded) socket.destroy();
    this.#stranded.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    client.on('error', () => client.destroy());
    if (this.#partitioned) {
      // A SYN into a partition: nothing answers; the client's connect timeout ends it.
      client.pause();
      this.#stranded.add(client);
      client.on('close', () => this.#stranded.delete(client));
      return;
    }
    const pair: Pair = { client, upstream: undefined, held: [], holding: false, clientEnded: false };
    this.#pairs.add(pair);
    const upstream = connect({ host: this.targetHost, port: this.targetPort });
    pair.upstream = upstream;
    upstream.on('error', () => {
      client.destroy();
      this.#pairs.delete(pair);
    });
    upstream.on('close', () => {
      client.destroy();
      this.#pairs.delete(pair);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.holding && !client.destroyed) client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => {
      if (!pair.holding && this.#marker && chunk.includes(this.#marker)) this.partition();
      if (pair.holding) pair.held.push(chunk);
      else upstream.write(chunk);
    });
    const clientGone = () => {
      pair.clientEnded = true;
      // Not held: the FIN goes through now. Held: it follows the held bytes (see heal).
      if (!pair.holding) upstream.end();
    };
    client.on('end', clientGone);
    client.on('close', clientGone);
  }
}
