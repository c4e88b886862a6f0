/**
 * A compiled EMQX-style topic template (`cp/${cid}/${action}`): split once at start into literal
 * and placeholder parts, so rendering a topic on the hot path is a short join, not a regex.
 * Unknown placeholders render as `undefined`, as in EMQX (`emqx_placeholder`); config rejects
 * them before they get here.
 */
export type TemplateVars = Readonly<Record<string, string | undefined>>;

export class TopicTemplate {
  private readonly parts: readonly string[];
  /** Odd indexes of `parts` are placeholder names. */
  constructor(readonly source: string) {
    this.parts = source.split(/\$\{([^}]*)\}/);
  }

  render(vars: TemplateVars): string {
    const { parts } = this;
    let out = parts[0] ?? '';
    for (let i = 1; i < parts.length; i += 2) {
      out += String(vars[parts[i] ?? '']) + (parts[i + 1] ?? '');
    }
    return out;
  }
}
