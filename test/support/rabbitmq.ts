import { randomBytes } from "node:crypto";
import * as amqp from "amqplib";

/** The shared broker on this machine. Tests never stop it: outages go through a TcpProxy. */
export const RABBITMQ_HOST = process.env["RABBITMQ_HOST"] ?? "127.0.0.1";
export const RABBITMQ_PORT = Number(process.env["RABBITMQ_PORT"] ?? 5672);
export const RABBITMQ_URL = `amqp://guest:guest@${RABBITMQ_HOST}:${RABBITMQ_PORT}`;

/** a queue / exchange name no other test run uses */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
}

/**
 * A test's own queue on the shared broker, collecting every message it receives. Declared auto-delete and
 * removed in close(); optionally bound to an exchange (which the test then owns too).
 */
export class QueueTap {
  readonly messages: amqp.ConsumeMessage[] = [];

  private constructor(
    private readonly model: amqp.ChannelModel,
    private readonly ch: amqp.Channel,
    readonly queue: string,
    private readonly exchange: string | undefined,
  ) {}

  static async open(opts: {
    prefix: string;
    exchange?: { name: string; type: string; bindingKey: string };
  }): Promise<QueueTap> {
    const model = await amqp.connect(RABBITMQ_URL);
    const ch = await model.createChannel();
    const queue = uniqueName(opts.prefix);
    // x-expires: a queue left behind by a crashed run disappears on its own
    await ch.assertQueue(queue, { durable: false, autoDelete: false, arguments: { "x-expires": 600_000 } });
    if (opts.exchange !== undefined) {
      await ch.assertExchange(opts.exchange.name, opts.exchange.type, { durable: false, autoDelete: false });
      await ch.bindQueue(queue, opts.exchange.name, opts.exchange.bindingKey);
    }
    const tap = new QueueTap(model, ch, queue, opts.exchange?.name);
    await ch.consume(
      queue,
      (m) => {
        if (m !== null) tap.messages.push(m);
      },
      { noAck: true },
    );
    return tap;
  }

  bodies(): string[] {
    return this.messages.map((m) => m.content.toString("utf8"));
  }

  /** publish raw bytes into this queue through the default exchange, as OpenSIPS would */
  publishRaw(body: Buffer): void {
    this.ch.sendToQueue(this.queue, body);
  }

  async close(): Promise<void> {
    await this.ch.deleteQueue(this.queue).catch(() => undefined);
    if (this.exchange !== undefined) await this.ch.deleteExchange(this.exchange).catch(() => undefined);
    await this.model.close().catch(() => undefined);
  }
}
