import type { Destination } from "../sip/sip-client.js";

/** Distinct destinations kept for sharing; past it the pool starts again (only sharing is lost). */
const MAX_POOLED = 4096;

/**
 * One shared Destination object per (transport, socket, address, port). The SIP stack makes one per transaction
 * and every record keeps the last one it saw: a million records towards one registrar would keep a million equal
 * objects (~60 B each) otherwise.
 */
export class DestinationPool {
  private last: Destination | undefined;
  private readonly pool = new Map<string, Destination>();

  intern(d: Destination): Destination {
    const last = this.last;
    if (last !== undefined && sameDestination(last, d)) return last;
    const key = `${d.transport} ${d.socket} ${d.address} ${d.port}`;
    let shared = this.pool.get(key);
    if (shared === undefined) {
      if (this.pool.size >= MAX_POOLED) this.pool.clear();
      shared = d;
      this.pool.set(key, d);
    }
    this.last = shared;
    return shared;
  }
}

function sameDestination(a: Destination, b: Destination): boolean {
  return a.port === b.port && a.address === b.address && a.socket === b.socket && a.transport === b.transport;
}
