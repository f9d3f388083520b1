// Parses .tf files with HashiCorp's HCL parser (the npm package @cdktf/hcl2json, Go compiled to
// WebAssembly) and prints one JSON object: file path → Terraform JSON syntax of the file, or
// { "error": message } when it does not parse.
// Usage: node scripts/hcl2json.js NODE_MODULES_DIR FILE...
'use strict';
const fs = require('fs');
const path = require('path');
const { parse } = require(path.join(process.argv[2], '@cdktf', 'hcl2json'));

(async () => {
  const result = {};
  for (const file of process.argv.slice(3)) {
    try {
      result[file] = await parse(path.basename(file), fs.readFileSync(file, 'utf8'));
    } catch (error) {
      result[file] = { error: String(error && error.message ? error.message : error) };
    }
  }
  process.stdout.write(JSON.stringify(result));
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
