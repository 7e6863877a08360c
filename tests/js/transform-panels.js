#!/usr/bin/env node
// Runs panels' transformations with Grafana's own implementation (@grafana/data's
// transformDataFrame and standard transformers), on data frames the caller built from real
// query results. tests/dashboards_prometheus.rs uses it to check what a table panel shows.
//
// Usage: node transform-panels.js REQUEST.json
//   REQUEST: [{ "key": "...", "transformations": [...], "frames": [{ "refId": "A",
//              "fields": [{ "name": "...", "type": "time|string|number", "values": [...] }] }] }]
// Prints [{ "key": "...", "tables": [{ "columns": [display name...], "rows": [[value...]] }] }].
"use strict";

const fs = require("fs");
const data = require("@grafana/data");
const { firstValueFrom } = require("rxjs");

// transformDataFrame asks whether it runs inside a Scenes dashboard; outside a browser there
// is no window. Set after loading @grafana/data, whose dependencies take a window for a DOM.
globalThis.window = globalThis.window || {};

// Grafana registers its standard transformers at start-up; some are exported under two names.
const byId = new Map(Object.values(data.standardTransformers).map((t) => [t.id, t]));
data.standardTransformersRegistry.setInit(() =>
  [...byId.values()].map((t) => ({ id: t.id, aliasIds: t.aliasIds, name: t.name, description: t.description, transformation: () => t, editor: () => null }))
);

(async () => {
  const [file] = process.argv.slice(2);
  if (!file) {
    console.error("usage: node transform-panels.js REQUEST.json");
    process.exit(2);
  }
  const request = JSON.parse(fs.readFileSync(file, "utf8"));
  const out = [];
  for (const panel of request) {
    for (const t of panel.transformations) {
      if (!byId.has(t.id)) throw new Error(`${panel.key}: Grafana has no transformation ${JSON.stringify(t.id)}`);
    }
    const frames = panel.frames.map((f) => data.toDataFrame(f));
    const result = await firstValueFrom(data.transformDataFrame(panel.transformations, frames));
    out.push({
      key: panel.key,
      tables: result.map((frame) => ({
        columns: frame.fields.map((field) => data.getFieldDisplayName(field, frame, result)),
        rows: Array.from({ length: frame.length }, (_, i) => frame.fields.map((field) => field.values[i] ?? null)),
      })),
    });
  }
  console.log(JSON.stringify(out));
})().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
