import { clip } from "./errors";
import { ProviderError } from "./types";

export type ConnectFn = (address: SocketAddress | string, options?: SocketOptions) => Socket;

export interface SmtpReply {
  code: number;
  /** The reply's text, lines joined by a space, for error messages. */
  text: string;
  lines: string[];
}

const REPLY_LINE = /^(\d{3})([ -])(.*)$/;
const encoder = new TextEncoder();

/**
 * One SMTP connection: reads multi-line replies, writes commands, and puts a deadline on every step.
 * A step that misses its deadline, or a connection that drops, becomes a ProviderError: a safe one
 * ("timeout"/"unavailable"). Whether such a failure may have cost an accepted message is for the
 * caller to say, since only it knows whether the end of a message's data was sent.
 */
export class SmtpSession {
  private reader: ReadableStreamDefaultReader<Uint8Array>;
  private writer: WritableStreamDefaultWriter<Uint8Array>;
  private decoder = new TextDecoder();
  private buffer = "";
  private closed = false;
  /** A read started by quiet() that has not resolved yet; the next reply continues with it. */
  private pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;

  constructor(
    private socket: Socket,
    private readonly timeoutMs: number,
    private readonly where: string,
  ) {
    this.watch(socket);
    this.reader = socket.readable.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    this.writer = socket.writable.getWriter();
  }

  /** A socket that fails rejects `closed` too; the failure is already reported where it bites. */
  private watch(socket: Socket) {
    socket.closed.catch(() => undefined);
  }

  /** Rejects with a timeout ProviderError when `step` takes longer than the deadline. */
  private async deadline<T>(step: string, work: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ProviderError("timeout", `SMTP ${step} at ${this.where} timed out after ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async opened(): Promise<void> {
    try {
      await this.deadline("connect", this.socket.opened);
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      throw new ProviderError("unavailable", `could not connect to ${this.where}`);
    }
  }

  private async readLine(): Promise<string> {
    for (;;) {
      const end = this.buffer.indexOf("\n");
      if (end >= 0) {
        const line = this.buffer.slice(0, end).replace(/\r$/, "");
        this.buffer = this.buffer.slice(end + 1);
        return line;
      }
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await this.read();
      } catch {
        throw new ProviderError("unavailable", `the connection to ${this.where} failed`);
      }
      if (chunk.done) throw new ProviderError("unavailable", `${this.where} closed the connection`);
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
      if (this.buffer.length > 64 * 1024) throw new ProviderError("unavailable", `${this.where} sent an overlong reply`);
    }
  }

  private read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const read = this.pending ?? this.reader.read();
    this.pending = null;
    return read;
  }

  /**
   * Checks, without waiting, that the server has neither closed the connection nor spoken since
   * its last reply; the server is silent while it receives a message's data. Call it right before a
   * write after which a failure becomes ambiguous: a connection the server dropped, or a reply it
   * gave early (421, 552, …), means the message was not accepted.
   */
  async quiet(step: string): Promise<void> {
    if (this.buffer) throw new ProviderError("unavailable", `${this.where} spoke before ${step}`);
    this.pending ??= this.reader.read();
    const read = this.pending;
    read.catch(() => undefined);
    const arrived = await Promise.race([
      read.then(
        () => true,
        () => true,
      ),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 0)),
    ]);
    if (!arrived) return;
    this.pending = null;
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await read;
    } catch {
      throw new ProviderError("unavailable", `the connection to ${this.where} failed before ${step}`);
    }
    if (chunk.done) throw new ProviderError("unavailable", `${this.where} closed the connection before ${step}`);
    const text = this.decoder.decode(chunk.value, { stream: true });
    throw new ProviderError("unavailable", `${this.where} spoke before ${step}: ${clip(text, 200)}`);
  }

  async reply(step: string): Promise<SmtpReply> {
    return this.deadline(step, this.readReply());
  }

  private async readReply(): Promise<SmtpReply> {
    const lines: string[] = [];
    for (;;) {
      const m = REPLY_LINE.exec(await this.readLine());
      if (!m) throw new ProviderError("unavailable", `${this.where} sent a malformed SMTP reply`);
      lines.push(m[3]!);
      if (m[2] === " ") return { code: Number(m[1]), text: clip(`${m[1]} ${lines.join(" ")}`, 200), lines };
    }
  }

  async write(data: string, step: string): Promise<void> {
    try {
      await this.deadline(step, this.writer.write(encoder.encode(data)));
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      throw new ProviderError("unavailable", `the connection to ${this.where} failed`);
    }
  }

  /** Sends one command line and waits for its reply. `step` names it in errors: pass one for lines that carry secrets. */
  async command(line: string, step = line.split(" ")[0]!): Promise<SmtpReply> {
    await this.write(`${line}\r\n`, step);
    return this.reply(step);
  }

  /**
   * STARTTLS: the plaintext streams are handed back and the socket continues encrypted, verified
   * against the host it was opened to (workerd takes no other name here).
   */
  upgrade(): void {
    this.pending = null;
    this.reader.releaseLock();
    this.writer.releaseLock();
    this.socket = this.socket.startTls();
    this.watch(this.socket);
    this.reader = this.socket.readable.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    this.writer = this.socket.writable.getWriter();
    this.buffer = "";
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.socket.close();
    } catch {
      // Already gone: nothing to release.
    }
  }
}
