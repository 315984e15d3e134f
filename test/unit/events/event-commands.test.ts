import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { Subscriptions } from "../../../src/events/subscriptions.js";
import { MiError } from "../../../src/errors.js";
import { silentLogger } from "../../../src/log.js";
import { eventCommands } from "../../../src/mi/commands/events.js";
import type { MiParams } from "../../../src/mi/command.js";

function goldenResult(file: string): unknown {
  const text = readFileSync(new URL(`../../fixtures/mi/golden/${file}`, import.meta.url), "utf8");
  return (JSON.parse(text.slice(text.lastIndexOf("\n{") + 1)) as { result: unknown }).result;
}

type Listing = { Events: { name: string; id: number; Subscribers?: { socket: string }[] }[] };

/** the golden capture also lists OpenSIPS's own events and script routes, which registrantd does not have */
function onlyRegistrant(l: Listing): Listing {
  return {
    Events: l.Events.filter((e) => e.name.startsWith("E_REGISTRANT_")).map((e) =>
      e.Subscribers ? { ...e, Subscribers: e.Subscribers.filter((s) => !s.socket.startsWith("route:")) } : e,
    ),
  };
}

describe("EVI MI commands", () => {
  // sinks connect lazily on the first event: no broker is contacted here
  const subs = new Subscriptions({ outboxSize: 10, log: silentLogger });
  after(() => subs.close(100));
  const cmds = eventCommands(subs);
  const run = (name: string, params: MiParams = {}) => {
    const c = cmds.find((x) => x.name === name || x.aliases?.includes(name));
    assert.ok(c, name);
    return c.handler(params);
  };

  it("events_list / evi:list list the nine events with OpenSIPS's ids", () => {
    assert.deepEqual(run("events_list"), onlyRegistrant(goldenResult("events_list.http") as Listing));
    assert.deepEqual(run("evi:list"), onlyRegistrant(goldenResult("evi-list.http") as Listing));
  });

  it("event_subscribe with the golden setup's sockets gives the golden subscribers_list", () => {
    const events = (run("events_list") as Listing).Events.map((e) => e.name);
    for (const event of events) {
      assert.equal(
        run("event_subscribe", { event, socket: "rabbitmq:guest:guest@127.0.0.1:5672/opensips_registrant" }),
        undefined,
      );
    }
    run("evi:subscribe", {
      event: "E_REGISTRANT_REGISTERED",
      socket: "rabbitmq:guest:guest@127.0.0.1:5672/exchange=amq.topic?opensips.registrant.registered",
      expire: 120,
    });
    // again: refreshed, not duplicated
    run("event_subscribe", {
      event: "E_REGISTRANT_REGISTERING",
      socket: "rabbitmq:guest@127.0.0.1/opensips_registrant",
    });
    assert.deepEqual(run("subscribers_list"), onlyRegistrant(goldenResult("subscribers_list.http") as Listing));
    assert.deepEqual(run("evi:subscribers"), onlyRegistrant(goldenResult("evi-subscribers.http") as Listing));
  });

  it("lists one event and one subscriber", () => {
    assert.deepEqual(
      run("subscribers_list", {
        event: "E_REGISTRANT_REGISTERED",
        socket: "rabbitmq:guest@127.0.0.1/opensips_registrant",
      }),
      {
        Event: {
          name: "E_REGISTRANT_REGISTERED",
          id: 8,
          Subscriber: { socket: "rabbitmq:guest@127.0.0.1/opensips_registrant", expire: "never" },
        },
      },
    );
    const one = run("subscribers_list", { event: "E_REGISTRANT_UNREGISTERING" }) as {
      Event: { Subscribers: unknown[] };
    };
    assert.equal(one.Event.Subscribers.length, 1);
  });

  it("answers OpenSIPS's errors", () => {
    const code = (fn: () => unknown, miCode: number, message: string) =>
      assert.throws(fn, (e: unknown) => e instanceof MiError && e.miCode === miCode && e.message === message);
    code(() => run("event_subscribe", { event: "E_NOPE", socket: "rabbitmq:127.0.0.1/q" }), 400, "Bad parameter value");
    code(
      () => run("event_subscribe", { event: "E_REGISTRANT_REGISTERED", socket: "udp:127.0.0.1:9" }),
      400,
      "Bad parameter value",
    );
    code(
      () => run("event_subscribe", { event: "E_REGISTRANT_REGISTERED", socket: "rabbitmq:h/x=1?q" }),
      400,
      "Bad parameter value",
    );
    code(
      () => run("event_subscribe", { event: "E_REGISTRANT_REGISTERED", socket: "rabbitmq:h/q", expire: -1 }),
      -32602,
      "Invalid params",
    );
    code(() => run("subscribers_list", { event: "E_NOPE" }), 404, "Event not published");
    code(
      () => run("subscribers_list", { event: "E_REGISTRANT_REGISTERED", socket: "rabbitmq:h/other" }),
      404,
      "Subscriber does not exist",
    );
  });
});

describe("EVI MI commands with clustering on", () => {
  const subs = new Subscriptions({ outboxSize: 10, log: silentLogger });
  after(() => subs.close(100));
  const cmds = eventCommands(subs, { clusterer: true });
  const run = (name: string, params: MiParams = {}) => cmds.find((x) => x.name === name)!.handler(params);

  it("evi:list also lists the clusterer's E_CLUSTERER_SHARING_TAG_CHANGED, after the nine", () => {
    const events = (run("evi:list") as Listing).Events;
    assert.equal(events.length, 10);
    assert.deepEqual(events[9], { name: "E_CLUSTERER_SHARING_TAG_CHANGED", id: 15 });
  });

  it("evi:subscribers shows a subscriber of the clusterer's event", () => {
    // OpenSIPS prints the socket without the default password and port
    const socket = "rabbitmq:guest@127.0.0.1/shtag_changes";
    run("evi:subscribe", {
      event: "E_CLUSTERER_SHARING_TAG_CHANGED",
      socket: "rabbitmq:guest:guest@127.0.0.1:5672/shtag_changes",
    });
    assert.deepEqual(run("evi:subscribers", { event: "E_CLUSTERER_SHARING_TAG_CHANGED" }), {
      Event: { name: "E_CLUSTERER_SHARING_TAG_CHANGED", id: 15, Subscribers: [{ socket, expire: "never" }] },
    });
    assert.deepEqual(run("evi:subscribers"), {
      Events: [{ name: "E_CLUSTERER_SHARING_TAG_CHANGED", id: 15, Subscribers: [{ socket, expire: "never" }] }],
    });
  });

  it("without clustering the clusterer's event is not published to MI", () => {
    const plain = eventCommands(subs).find((x) => x.name === "evi:subscribers")!;
    assert.throws(
      () => plain.handler({ event: "E_CLUSTERER_SHARING_TAG_CHANGED" }),
      (e: unknown) => e instanceof MiError && e.miCode === 404,
    );
  });
});
