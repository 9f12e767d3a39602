// Tokenises .seg files with the TextMate grammar of editors/vscode (vscode-textmate +
// vscode-oniguruma, as VS Code does) and prints, per file, [line, token text, scopes] as JSON.
// Usage: node vscode_tokens.js GRAMMAR FILE...   (NODE_PATH: where the two packages are)
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const [grammarPath, ...files] = process.argv.slice(2);
const wasm = fs.readFileSync(path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm")).buffer;

const registry = new vsctm.Registry({
  onigLib: oniguruma.loadWASM(wasm).then(() => ({
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (s) => new oniguruma.OnigString(s),
  })),
  loadGrammar: async () => vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath),
});

registry.loadGrammar("source.seg").then((grammar) => {
  const out = {};
  for (const file of files) {
    let rule = vsctm.INITIAL;
    const tokens = [];
    fs.readFileSync(file, "utf8").split("\n").forEach((line, i) => {
      const r = grammar.tokenizeLine(line, rule);
      for (const t of r.tokens) tokens.push([i, line.slice(t.startIndex, t.endIndex), t.scopes]);
      rule = r.ruleStack;
    });
    out[file] = tokens;
  }
  process.stdout.write(JSON.stringify(out));
});
