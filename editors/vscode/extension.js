// Starts `segc lsp` (the path is the setting segc.path) for .seg files and segc.yml.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("segc").get("path") || "segc";
  client = new LanguageClient(
    "segc",
    "segc language server",
    { command, args: ["lsp"] },
    {
      documentSelector: [
        { scheme: "file", language: "seg" },
        { scheme: "file", pattern: "**/segc.yml" },
      ],
      synchronize: {
        // the server reloads the project when segc.yml or a .seg file changes on disk
        fileEvents: vscode.workspace.createFileSystemWatcher("**/{segc.yml,*.seg}"),
      },
    }
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
