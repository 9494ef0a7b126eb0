/**
 * Runs `action(key)` at most once per key per window: the first call for a key starts a timer, calls
 * during the window join it, and the action runs when the window ends, so it starts after every call
 * it stands for. Used for doorbells (waking a queue's consumer) on paths too hot to ring per request.
 */
export class KeyedCoalescer {
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly windowMs: number,
    private readonly action: (key: string) => Promise<void>,
    private readonly onError: (err: unknown, key: string) => void,
  ) {}

  schedule(key: string): void {
    if (this.pending.has(key)) return;
    const timer = setTimeout(() => {
      this.pending.delete(key);
      this.action(key).catch((err: unknown) => this.onError(err, key));
    }, this.windowMs);
    // A pending doorbell never keeps the process alive; flush() rings it on a graceful stop.
    timer.unref();
    this.pending.set(key, timer);
  }

  /** Runs every pending action now (before shutdown). */
  async flush(): Promise<void> {
    const keys = [...this.pending.keys()];
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    await Promise.all(keys.map((key) => this.action(key).catch((err: unknown) => this.onError(err, key))));
  }
}
