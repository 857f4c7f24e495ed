// Runs the real npm `stathat` client against a Roost on this machine.
//
//   ROOST_URL=http://127.0.0.1:8000 node stathat_client.js < calls.json
//
// calls.json is a list of [functionName, arg, ...] (e.g. ["trackEZCount", "KEY", "hits", 1]);
// the calls run one after another and the script prints, as JSON, one {status, body} per call:
// what the client handed its callback. The package posts to api.stathat.com:80 and has no
// setting for the host, so this script re-aims Node's http.request at ROOST_URL before loading
// it; the package itself is used as published.
"use strict";

const http = require("http");

const target = new URL(process.env.ROOST_URL || "");
if (target.hostname !== "127.0.0.1") {
  console.error("ROOST_URL must point at 127.0.0.1");
  process.exit(2);
}

const request = http.request;
http.request = function (options, callback) {
  const aimed = Object.assign({}, options, { hostname: target.hostname, port: target.port });
  return request.call(http, aimed, callback);
};

const stathat = require("stathat");

// Every wait is bounded: one call by CALL_MS, the whole run by RUN_MS.
const CALL_MS = 10000;
const RUN_MS = 60000;
setTimeout(() => {
  console.error("stathat_client.js: the run took too long");
  process.exit(3);
}, RUN_MS).unref();

function call(name, args) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ status: null, body: "no callback" }), CALL_MS);
    // The client calls back once per chunk of the answer; Roost's answers are one chunk.
    stathat[name](...args, (status, body) => {
      clearTimeout(timer);
      resolve({ status: status, body: String(body) });
    });
  });
}

async function main() {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const results = [];
  for (const [name, ...args] of JSON.parse(input)) {
    if (typeof stathat[name] !== "function") throw new Error("no such client function: " + name);
    results.push(await call(name, args));
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
