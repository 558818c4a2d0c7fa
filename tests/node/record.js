#!/usr/bin/env node
// Records Node's traces into scenario files: runs runner.js on each given scenario several
// times, refuses to record a scenario whose traces differ between runs (a flaky scenario
// is a broken scenario), and writes the trace into the file's `expected` field.
//
// Usage: node tests/node/record.js [--runs N] tests/scenarios/a.json [...]
// Never hand-edit `expected`: it is what Node printed. Deliberate differences go into
// `differences` instead.
'use strict';

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const args = process.argv.slice(2);
let runs = 3;
if (args[0] === '--runs') {
  runs = Number(args[1]);
  args.splice(0, 2);
}
const runner = path.join(__dirname, 'runner.js');

// Scenario layout: one step / rule / difference per line, so diffs of scenario files stay
// readable.
function format(scenario) {
  const lines = ['{'];
  const keys = Object.keys(scenario);
  keys.forEach((key, i) => {
    const comma = i + 1 < keys.length ? ',' : '';
    const value = scenario[key];
    if (Array.isArray(value) && value.length > 0 && typeof value[0] === 'object') {
      lines.push(`  ${JSON.stringify(key)}: [`);
      value.forEach((v, j) => lines.push(`    ${JSON.stringify(v)}${j + 1 < value.length ? ',' : ''}`));
      lines.push(`  ]${comma}`);
    } else if (value && typeof value === 'object' && !Array.isArray(value) &&
        Object.keys(value).length > 0 && key !== 'servers' && key !== 'clients') {
      lines.push(`  ${JSON.stringify(key)}: {`);
      const inner = Object.keys(value);
      inner.forEach((k, j) => lines.push(`    ${JSON.stringify(k)}: ${JSON.stringify(value[k])}${j + 1 < inner.length ? ',' : ''}`));
      lines.push(`  }${comma}`);
    } else {
      lines.push(`  ${JSON.stringify(key)}: ${JSON.stringify(value)}${comma}`);
    }
  });
  lines.push('}');
  return lines.join('\n') + '\n';
}

let failed = false;
for (const file of args) {
  const scenario = JSON.parse(fs.readFileSync(file, 'utf8'));
  const outputs = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, [runner, file], { encoding: 'utf8' });
    outputs.push(JSON.stringify(JSON.parse(out).traces));
  }
  if (new Set(outputs).size !== 1) {
    failed = true;
    process.stderr.write(`${file}: traces differ between runs, not recorded:\n${outputs.join('\n')}\n`);
    continue;
  }
  scenario.expected = JSON.parse(outputs[0]);
  fs.writeFileSync(file, format(scenario));
  process.stdout.write(`${file}: recorded ${outputs[0]}\n`);
}
process.exit(failed ? 1 : 0);
