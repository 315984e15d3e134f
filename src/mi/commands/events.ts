import { MiError } from "../../errors.js";
import { OTHER_EVENTS, REGISTRANT_EVENTS, eventId } from "../../events/catalog.js";
import type { PublishedEventName } from "../../events/catalog.js";
import type { Subscriber, Subscriptions } from "../../events/subscriptions.js";
import type { MiCommand, MiParams } from "../command.js";

export interface EventCommandOptions {
  /** clustering is on: the clusterer module's E_CLUSTERER_SHARING_TAG_CHANGED is published too */
  readonly clusterer: boolean;
}

/** id of the clusterer's event: the next id after uac_registrant's nine, as when clusterer registers it after them */
const CLUSTERER_EVENT_ID = eventId(REGISTRANT_EVENTS[REGISTRANT_EVENTS.length - 1]!) + 1;

/**
 * OpenSIPS's EVI MI commands (reference mi-and-events §7.3) over registrantd's subscriber table: 4.0
 * `evi:*` names with the 3.x names as aliases, OpenSIPS's reply shapes and error texts.
 */
export function eventCommands(subs: Subscriptions, opts: EventCommandOptions = { clusterer: false }): MiCommand[] {
  const published: readonly PublishedEventName[] = opts.clusterer
    ? [...REGISTRANT_EVENTS, ...OTHER_EVENTS]
    : REGISTRANT_EVENTS;
  const idOf = (name: PublishedEventName): number =>
    name === "E_CLUSTERER_SHARING_TAG_CHANGED" ? CLUSTERER_EVENT_ID : eventId(name);
  const str = (p: MiParams, name: string): string => {
    const v = p[name];
    const s = typeof v === "number" ? String(v) : typeof v === "string" ? v : "";
    if (s === "") throw new MiError(-32602, "Invalid params", `Empty parameter '${name}'`);
    return s;
  };
  const subscriberJson = (s: Subscriber) => ({ socket: s.printed, expire: "never" });
  const known = (name: string): PublishedEventName => {
    const found = published.find((n) => n === name);
    if (found === undefined) throw new MiError(404, "Event not published");
    return found;
  };

  return [
    {
      name: "evi:subscribe",
      aliases: ["event_subscribe"],
      recipes: [
        [
          { name: "event", type: "string" },
          { name: "socket", type: "string" },
        ],
        [
          { name: "event", type: "string" },
          { name: "socket", type: "string" },
          { name: "expire", type: "int" },
        ],
      ],
      handler(p) {
        const event = str(p, "event");
        const socket = str(p, "socket");
        if (p["expire"] !== undefined && Number(p["expire"]) < 0) {
          throw new MiError(-32602, "Invalid params", "Negative expire value");
        }
        // RabbitMQ subscriptions never expire (event_rabbitmq is not an expirable transport): expire is ignored
        const r = subs.subscribe(event, socket);
        if (!r.ok) throw new MiError(400, "Bad parameter value");
        return undefined;
      },
    },
    {
      name: "evi:list",
      aliases: ["events_list"],
      recipes: [[]],
      handler() {
        return { Events: published.map((name) => ({ name, id: idOf(name) })) };
      },
    },
    {
      name: "evi:subscribers",
      aliases: ["subscribers_list"],
      recipes: [
        [],
        [{ name: "event", type: "string" }],
        [
          { name: "event", type: "string" },
          { name: "socket", type: "string" },
        ],
      ],
      handler(p) {
        if (p["event"] === undefined) {
          const Events = published
            .filter((n) => subs.subscribers(n).length > 0)
            .map((name) => ({
              name,
              id: idOf(name),
              Subscribers: subs.subscribers(name).map(subscriberJson),
            }));
          return { Events };
        }
        const name = known(str(p, "event"));
        if (p["socket"] === undefined) {
          const list = subs.subscribers(name);
          if (list.length === 0) return { Event: {} };
          return { Event: { name, id: idOf(name), Subscribers: list.map(subscriberJson) } };
        }
        const found = subs.find(name, str(p, "socket"));
        if (found === undefined) throw new MiError(404, "Subscriber does not exist");
        return { Event: { name, id: idOf(name), Subscriber: subscriberJson(found) } };
      },
    },
  ];
}
