// Validate HAR files with har-validator (the HAR 1.2 JSON Schemas of har-schema, checked by ajv).
// Usage: node validate-har.js FILE...; prints "ok FILE" or the schema errors as JSON, exits 1 on any error.
const fs = require("fs");
const validate = require("har-validator");

(async () => {
  let failed = false;
  for (const file of process.argv.slice(2)) {
    try {
      await validate.har(JSON.parse(fs.readFileSync(file, "utf8")));
      console.log(`ok ${file}`);
    } catch (error) {
      failed = true;
      console.log(JSON.stringify({ file, message: error.message, errors: error.errors || null }));
    }
  }
  process.exit(failed ? 1 : 0);
})();
