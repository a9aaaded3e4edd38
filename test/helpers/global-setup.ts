import { existsSync } from "node:fs";
import { CLI_ENTRY } from "./paths.js";

/** Integration tests run the built CLI: fail at once, with the fix, when it is not built. */
export default function setup(): void {
  if (!existsSync(CLI_ENTRY)) throw new Error(`${CLI_ENTRY} is missing: run \`npm run build\` first (\`npm test\` does).`);
}
