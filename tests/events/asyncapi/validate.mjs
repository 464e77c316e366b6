// Validates AsyncAPI documents (file paths) with the official parser: the specification's JSON Schema plus its
// Spectral rules (references resolve, operations name their channel's messages, payload and header schemas
// are valid). One process for many files: building the parser costs more than parsing a document.
// Prints every finding as one JSON line naming its file; exits 1 when any document has an error.
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const SEVERITY = ["error", "warning", "info", "hint"];
const parser = new Parser();
let failed = false;
for (const file of process.argv.slice(2)) {
  const { document, diagnostics } = await parser.parse(readFileSync(file, "utf8"));
  for (const finding of diagnostics) {
    console.log(JSON.stringify({
      file,
      severity: SEVERITY[finding.severity],
      code: finding.code,
      path: finding.path.join("."),
      message: finding.message,
    }));
  }
  failed ||= document === undefined || diagnostics.some((finding) => finding.severity === 0);
}
process.exit(failed ? 1 : 0);
