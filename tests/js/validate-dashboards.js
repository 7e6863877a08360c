#!/usr/bin/env node
// Validates Grafana dashboard JSON files against Grafana's own types, as @grafana/schema
// declares them: the JSON Schema of its `Dashboard` type (generated here with
// ts-json-schema-generator) for the whole file, and for each panel the schema of the panel
// plugin's `Options` (and `FieldConfig`, where the plugin has one), for the field config defaults
// and for them with each override applied. A panel type is one Grafana
// ships when @grafana/schema has a panel config for it. The schema version must be the one the
// package's `defaultDashboard` carries.
//
// Usage: node validate-dashboards.js FILE.json...
// Prints one JSON report on stdout; exits 1 when any file is invalid, 2 on a usage error.
"use strict";

const fs = require("fs");
const path = require("path");
const Ajv = require("ajv");
const tsj = require("ts-json-schema-generator");

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate-dashboards.js FILE.json...");
  process.exit(2);
}

const schemaRoot = path.join(__dirname, "node_modules", "@grafana", "schema");
const typesRoot = path.join(schemaRoot, "dist", "types");
const packageVersion = JSON.parse(fs.readFileSync(path.join(schemaRoot, "package.json"), "utf8")).version;
const { defaultDashboard } = require(path.join(schemaRoot, "dist", "cjs", "index.cjs"));

function schemaOf(file, type) {
  // expose "none": @grafana/schema declares some types (DataSourceRef) twice under one name,
  // which named definitions cannot hold; inlining keeps every constraint.
  return tsj
    .createGenerator({ path: file, type, expose: "none", topRef: true, skipTypeCheck: true, additionalProperties: false })
    .createSchema(type);
}

function exportsType(file, type) {
  return new RegExp(`export (interface|type) ${type}\\b`).test(fs.readFileSync(file, "utf8"));
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validateDashboard = ajv.compile(schemaOf(path.join(typesRoot, "veneer", "dashboard.types.d.ts"), "Dashboard"));
const panelValidators = new Map();

function panelConfig(type) {
  if (panelValidators.has(type)) return panelValidators.get(type);
  const file = path.join(typesRoot, "raw", "composable", type, "panelcfg", "x", "types.gen.d.ts");
  let entry = null;
  if (/^[a-z0-9-]+$/.test(type) && fs.existsSync(file)) {
    entry = {
      options: ajv.compile(schemaOf(file, "Options")),
      fieldConfig: exportsType(file, "FieldConfig") ? ajv.compile(schemaOf(file, "FieldConfig")) : null,
    };
  }
  panelValidators.set(type, entry);
  return entry;
}

function setPath(target, path, value) {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) node[key] = {};
    node = node[key];
  }
  node[keys[keys.length - 1]] = value;
}

// Field config as the dashboard schema declares it (by validating a copy of the dashboard
// whose panel carries only this config) and its `custom` part as the panel plugin does.
function checkFieldConfig(dashboard, panel, config, defaults, where, errors, whole) {
  if (whole) {
    const copy = structuredClone(dashboard);
    copy.panels = [{ ...structuredClone(panel), fieldConfig: { defaults, overrides: [] } }];
    // Only what the field config adds: the rest of the copy was checked with the dashboard.
    const own = (validateDashboard(copy) ? [] : validateDashboard.errors).filter((e) => e.instancePath.startsWith("/panels/0/fieldConfig"));
    errors.push(...explain(own, `${where}: dashboard`));
  }
  if (defaults.custom === undefined) return;
  if (!config.fieldConfig) errors.push(`${where}: custom field config, but the plugin has no FieldConfig`);
  else if (!config.fieldConfig(defaults.custom)) errors.push(...explain(config.fieldConfig.errors, `${where}.custom`));
}

function explain(errors, where) {
  return (errors || []).map((e) => `${where}${e.instancePath || "/"} ${e.message}${e.params ? " " + JSON.stringify(e.params) : ""}`);
}

const report = { package: `@grafana/schema@${packageVersion}`, schemaVersion: defaultDashboard.schemaVersion, files: [] };
let failed = false;
for (const file of files) {
  const errors = [];
  let dashboard;
  try {
    dashboard = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    errors.push(`cannot read: ${error.message}`);
  }
  const panelTypes = [];
  if (dashboard) {
    if (!validateDashboard(dashboard)) errors.push(...explain(validateDashboard.errors, "dashboard"));
    if (dashboard.schemaVersion !== defaultDashboard.schemaVersion) {
      errors.push(`schemaVersion ${dashboard.schemaVersion}, the package declares ${defaultDashboard.schemaVersion}`);
    }
    const panels = (dashboard.panels || []).flatMap((p) => (p.type === "row" ? p.panels || [] : [p]));
    for (const panel of panels) {
      const where = `panel ${JSON.stringify(panel.title)} (${panel.type})`;
      panelTypes.push(panel.type);
      const config = panelConfig(panel.type);
      if (!config) {
        errors.push(`${where}: not a panel type Grafana ships (no panel config in @grafana/schema)`);
        continue;
      }
      if (!config.options(panel.options || {})) errors.push(...explain(config.options.errors, `${where} options`));
      const fieldConfig = panel.fieldConfig || {};
      const defaults = fieldConfig.defaults || {};
      checkFieldConfig(dashboard, panel, config, defaults, `${where} fieldConfig.defaults`, errors, false);
      // An override sets field config properties by path ("unit", "custom.cellOptions"): the
      // defaults with it applied must be valid field config too.
      for (const [i, override] of (fieldConfig.overrides || []).entries()) {
        const merged = structuredClone(defaults);
        for (const property of override.properties || []) setPath(merged, property.id, property.value);
        checkFieldConfig(dashboard, panel, config, merged, `${where} override ${i} (${JSON.stringify(override.matcher && override.matcher.options)})`, errors, true);
      }
    }
  }
  if (errors.length > 0) failed = true;
  report.files.push({ file, valid: errors.length === 0, panelTypes, errors });
}
console.log(JSON.stringify(report, null, 2));
process.exit(failed ? 1 : 0);
