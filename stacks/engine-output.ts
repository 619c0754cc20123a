// The engine's output as progress lines: one per resource change and the summary, without blank
// lines and without the stack's outputs block (dozens of lines of hosts and keys that say nothing
// about progress; `dumont` commands that want them print them on purpose).
export function engineProgress(progress: (line: string) => void, indent = "  "): (text: string) => void {
  let inOutputs = false;
  return (text) => {
    for (const raw of text.split("\n")) {
      const line = raw.trimEnd();
      if (!line.trim()) continue;
      if (/^Outputs:/.test(line.trim())) inOutputs = true;
      else if (/^Resources:/.test(line.trim())) inOutputs = false;
      if (!inOutputs) progress(`${indent}${line}`);
    }
  };
}
