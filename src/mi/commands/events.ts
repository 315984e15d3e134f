import { MiError } from "../../errors.js";
import { REGISTRANT_EVENTS, eventId, isRegistrantEvent } from "../../events/catalog.js";
import type { RegistrantEventName } from "../../events/catalog.js";
import type { Subscriber, Subscriptions } from "../../events/subscriptions.js";
import type { MiCommand, MiParams } from "../command.js";

/**
 * OpenSIPS's EVI MI commands (reference mi-and-events §7.3) over registrantd's subscriber table: 4.0
 * `evi:*` names with the 3.x names as aliases, OpenSIPS's reply shapes and error texts.
 */
export function eventCommands(subs: Subscriptions): MiCommand[] {
  const str = (p: MiParams, name: string): string => {
    const v = p[name];
    const s = typeof v === "number" ? String(v) : typeof v === "string" ? v : "";
    if (s === "") throw new MiError(-32602, "Invalid params", `Empty parameter '${name}'`);
    return s;
  };
  const subscriberJson = (s: Subscriber) => ({ socket: s.printed, expire: "never" });
  const known = (name: string): RegistrantEventName => {
    if (!isRegistrantEvent(name)) throw new MiError(404, "Event not published");
    return name;
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
        return { Events: REGISTRANT_EVENTS.map((name) => ({ name, id: eventId(name) })) };
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
          const Events = REGISTRANT_EVENTS.filter((n) => subs.subscribers(n).length > 0).map((name) => ({
            name,
            id: eventId(name),
            Subscribers: subs.subscribers(name).map(subscriberJson),
          }));
          return { Events };
        }
        const name = known(str(p, "event"));
        if (p["socket"] === undefined) {
          const list = subs.subscribers(name);
          if (list.length === 0) return { Event: {} };
          return { Event: { name, id: eventId(name), Subscribers: list.map(subscriberJson) } };
        }
        const found = subs.find(name, str(p, "socket"));
        if (found === undefined) throw new MiError(404, "Subscriber does not exist");
        return { Event: { name, id: eventId(name), Subscriber: subscriberJson(found) } };
      },
    },
  ];
}
