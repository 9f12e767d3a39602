// The playground's editor: CodeMirror 6 with a StreamLanguage highlighter for segc and
// lint diagnostics from POST /api/check (the same as `segc check`).
import {EditorState} from "@codemirror/state";
import {EditorView, keymap, lineNumbers, highlightActiveLine} from "@codemirror/view";
import {defaultKeymap, history, historyKeymap} from "@codemirror/commands";
import {StreamLanguage, syntaxHighlighting, defaultHighlightStyle, bracketMatching} from "@codemirror/language";
import {linter, lintGutter, setDiagnostics} from "@codemirror/lint";

const KEYWORDS = new Set(["segment", "segmentation", "and", "or", "not", "in", "is", "missing",
  "where", "within", "last", "between", "else", "when", "true", "false", "today", "ago",
  "top", "bottom", "by", "of", "count", "sum", "avg", "min", "max", "distinct", "holdout",
  "days", "day", "weeks", "week", "months", "month", "years", "year", "followed", "matches"]);

const segc = StreamLanguage.define({
  token(stream) {
    if (stream.eatSpace()) return null;
    if (stream.match("#")) { stream.skipToEnd(); return "comment"; }
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/) || stream.match(/^'(?:[^'\\]|\\.)*'?/)) return "string";
    if (stream.match(/^\d[\d_]*(\.\d+)?%?/)) return "number";
    if (stream.match(/^@\w+/)) return "meta";
    if (stream.match(/^\$\w+/)) return "variableName.special";
    if (stream.match(/^[A-Za-z_][\w.]*/)) {
      return KEYWORDS.has(stream.current().toLowerCase()) ? "keyword" : "variableName";
    }
    stream.next();
    return "operator";
  },
});

function toCm(doc, d) {
  const line = (n) => doc.line(Math.min(Math.max(n || 1, 1), doc.lines));
  const from = d.line ? line(d.line).from + Math.max(0, (d.col || 1) - 1) : 0;
  let to = d.end_line ? line(d.end_line).from + Math.max(0, (d.end_col || 1) - 1) : from;
  const clamp = (x) => Math.min(Math.max(x, 0), doc.length);
  return {from: clamp(from), to: Math.max(clamp(to), clamp(from)),
    severity: d.severity === "error" ? "error" : "warning",
    message: `${d.code}: ${d.message}` + (d.hints && d.hints.length ? `\n${d.hints.join("\n")}` : "")};
}

export function create(parent, text, onChange) {
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [lineNumbers(), history(), highlightActiveLine(), bracketMatching(),
        keymap.of([...defaultKeymap, ...historyKeymap]), segc,
        syntaxHighlighting(defaultHighlightStyle), lintGutter(), linter(null),
        EditorView.updateListener.of((u) => { if (u.docChanged) onChange(u.state.doc.toString()); }),
        EditorView.lineWrapping],
    }),
  });
  return {
    view,
    text: () => view.state.doc.toString(),
    setText: (t) => view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: t}}),
    showDiagnostics: (diags) => view.dispatch(setDiagnostics(view.state, diags.map((d) => toCm(view.state.doc, d)))),
  };
}
