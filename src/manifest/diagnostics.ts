import { placeOf, quotedDiagnostics, type Diagnostic, type Location } from "../diagnostics.js";
import { ValidationError } from "../errors.js";
import { countLabel } from "../format.js";

/**
 * A manifest that did not pass: commands that need a valid manifest (pack, deploy) throw it
 * and exit 3. The hint repeats the first problems so the user need not run `validate` first.
 */
export class ManifestInvalidError extends ValidationError {
  override readonly code = "MANIFEST_INVALID";
  readonly diagnostics: Diagnostic[];

  constructor(source: Pick<Location, "file" | "entry"> & { errors: readonly Diagnostic[] }) {
    const diagnostics = [...source.errors];
    super(`${placeOf(source)} is not a valid manifest: ${countLabel(diagnostics.length, "problem")} found.`, {
      hint: [...quotedDiagnostics(diagnostics), `Fix them and run \`c8y-ms validate\` to check again.`].join("\n"),
    });
    this.diagnostics = diagnostics;
  }
}
