import { yaml } from '@codemirror/lang-yaml';
import { lintGutter, linter, type Diagnostic } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { useEffect, useRef } from 'preact/hooks';
import { call } from './api.ts';

/** One problem of POST /sim/operations/validate: 1-based line and column, the key, the message. */
export interface Problem {
  line: number;
  column: number;
  key?: string;
  message: string;
}

/** What the check says about the editor's text. */
export interface Check {
  valid: boolean;
  /** When valid: where saving or executing it puts it. */
  namespace?: string;
  operation?: string;
  errors: Problem[];
  warnings: Problem[];
}

/** POST /sim/operations/validate: the engine's own check, every error and warning with its place. */
export async function validate(text: string): Promise<Check> {
  const res = await call('/sim/operations/validate', { yaml: text });
  return (await res.json()) as Check;
}

function diagnostics(view: EditorView, check: Check): Diagnostic[] {
  const doc = view.state.doc;
  const place = (p: Problem, severity: 'error' | 'warning'): Diagnostic => {
    const line = doc.line(Math.min(Math.max(p.line, 1), doc.lines));
    const from = Math.min(line.from + Math.max(p.column - 1, 0), line.to);
    return { from, to: from < line.to ? line.to : from, severity, message: p.key ? `${p.key}: ${p.message}` : p.message, source: 'em-sim' };
  };
  return [...check.errors.map((p) => place(p, 'error')), ...check.warnings.map((p) => place(p, 'warning'))];
}

/**
 * The YAML editor (CodeMirror 6): highlighting, and the engine's validation inline as the user
 * types (half a second after the last key), each problem underlined at its line and column.
 * `onCheck` gets every check's result too, for the list beside the editor. The editor owns its
 * text: `initial` is read once, so a different text (another revision) needs a new `key`; feeding
 * every keystroke back as a prop would let a late render undo a newer edit.
 */
/** Puts the cursor at a 1-based line and column of the editor, scrolls there and focuses the editor. */
export function goTo(view: EditorView, line: number, column: number): void {
  const doc = view.state.doc;
  const l = doc.line(Math.min(Math.max(line, 1), doc.lines));
  const pos = Math.min(l.from + Math.max(column - 1, 0), l.to);
  view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
  view.focus();
}

export function YamlEditor({
  initial,
  onChange,
  onCheck,
  label,
  onView,
}: {
  initial: string;
  onChange: (t: string) => void;
  onCheck: (c: Check | null, error?: unknown) => void;
  label: string;
  /** Gets the editor's view once made (to move its cursor to a problem). */
  onView?: (view: EditorView) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const handlers = useRef({ onChange, onCheck });
  handlers.current = { onChange, onCheck };

  useEffect(() => {
    const source = async (v: EditorView): Promise<Diagnostic[]> => {
      const content = v.state.doc.toString();
      if (!content.trim()) {
        handlers.current.onCheck(null);
        return [];
      }
      try {
        const check = await validate(content);
        // A later edit made this check stale: CodeMirror asks again.
        if (v.state.doc.toString() !== content) return [];
        handlers.current.onCheck(check);
        return diagnostics(v, check);
      } catch (err) {
        handlers.current.onCheck(null, err);
        return [];
      }
    };
    view.current = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: initial,
        extensions: [
          basicSetup,
          yaml(),
          lintGutter(),
          linter(source, { delay: 500 }),
          EditorView.contentAttributes.of({ 'aria-label': label, tabindex: '0' }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) handlers.current.onChange(u.state.doc.toString());
          }),
        ],
      }),
    });
    onView?.(view.current);
    return () => view.current?.destroy();
  }, []);

  return <div class="editor" ref={host} />;
}
