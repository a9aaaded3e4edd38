import { CancelledError, MissingInputError } from "../errors.js";

interface BaseQuestion {
  message: string;
  /** The flag (or variable) that answers this question without a prompt, named in errors. */
  flag: string;
}

export interface InputQuestion extends BaseQuestion {
  default?: string | undefined;
  /** Returns an error message, or true when the answer is acceptable. */
  validate?: (value: string) => string | true;
}

export interface Choice<T> {
  name: string;
  value: T;
  description?: string;
}

export interface SelectQuestion<T> extends BaseQuestion {
  choices: readonly Choice<T>[];
  default?: T | undefined;
}

export interface CheckboxQuestion<T> extends BaseQuestion {
  choices: readonly Choice<T>[];
  default?: readonly T[] | undefined;
}

export interface ConfirmQuestion extends BaseQuestion {
  /** Destructive confirmations have no default: without a terminal they need --yes. */
  default?: boolean | undefined;
}

export interface Prompter {
  input(question: InputQuestion): Promise<string>;
  select<T>(question: SelectQuestion<T>): Promise<T>;
  checkbox<T>(question: CheckboxQuestion<T>): Promise<T[]>;
  confirm(question: ConfirmQuestion): Promise<boolean>;
  password(question: BaseQuestion): Promise<string>;
}

export interface PrompterOptions {
  interactive: boolean;
  /** --yes: take every default without asking. */
  yes: boolean;
  signal: AbortSignal;
}

/**
 * Asks on a terminal; otherwise answers from defaults, and where there is none fails with a
 * usage error naming the flag to pass. Never blocks a pipeline waiting for input.
 */
export function createPrompter(options: PrompterOptions): Prompter {
  const { interactive, yes, signal } = options;
  const unanswerable = (q: BaseQuestion) => new MissingInputError(q.message.replace(/[?:]\s*$/, "").toLowerCase(), q.flag);

  return {
    async input(q) {
      if (q.default !== undefined && (yes || !interactive)) return q.default;
      if (!interactive) throw unanswerable(q);
      const { input } = await import("@inquirer/prompts");
      return ask(() => input({ message: q.message, default: q.default, validate: q.validate }, { signal }));
    },
    async select(q) {
      if (q.default !== undefined && (yes || !interactive)) return q.default;
      if (!interactive) throw unanswerable(q);
      const { select } = await import("@inquirer/prompts");
      return ask(() => select({ message: q.message, choices: [...q.choices], default: q.default }, { signal }));
    },
    async checkbox(q) {
      if (q.default !== undefined && (yes || !interactive)) return [...q.default];
      if (!interactive) throw unanswerable(q);
      const { checkbox } = await import("@inquirer/prompts");
      const selected = new Set(q.default ?? []);
      return ask(() =>
        checkbox({ message: q.message, choices: q.choices.map((c) => ({ ...c, checked: selected.has(c.value) })) }, { signal }),
      );
    },
    async confirm(q) {
      if (yes) return true;
      if (!interactive) {
        if (q.default !== undefined) return q.default;
        throw new MissingInputError("confirmation", q.flag);
      }
      const { confirm } = await import("@inquirer/prompts");
      return ask(() => confirm({ message: q.message, default: q.default ?? false }, { signal }));
    },
    async password(q) {
      if (!interactive) throw unanswerable(q);
      const { password } = await import("@inquirer/prompts");
      return ask(() => password({ message: q.message, mask: true }, { signal }));
    },
  };
}

async function ask<T>(prompt: () => Promise<T>): Promise<T> {
  try {
    return await prompt();
  } catch (error) {
    // Inquirer rejects with these on Ctrl-C or when our abort signal fires.
    if (error instanceof Error && (error.name === "ExitPromptError" || error.name === "AbortPromptError")) {
      throw new CancelledError("Cancelled at the prompt.");
    }
    throw error;
  }
}
