// Preloaded with `node --require` for @modelcontextprotocol/server-memory in mcpcheck's tests:
// unless MEMORY_FILE_PATH is already set, point it at memory.jsonl in a fresh temporary directory
// (removed again when the process exits), so the server starts empty every time and never writes
// next to its own code in node_modules or anywhere in the repository.
const fs = require("fs");
const os = require("os");
const path = require("path");
if (!process.env.MEMORY_FILE_PATH) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mcpcheck-memory-"));
  process.env.MEMORY_FILE_PATH = path.join(dir, "memory.jsonl");
  process.on("exit", () => {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (e) {}
  });
}
