"""The README's examples, run verbatim against a fresh emulator: the blocks
marked <!-- readme-test: NAME --> must print what the README shows, up to the
values that change from run to run (sequence-number epochs, iterators, times)."""
import os
import re
import subprocess
import tempfile
import unittest

from .kt import ROOT, Emulator, client_env, kintape_bin

README = os.path.join(ROOT, "README.md")


def blocks():
    """{name: (language, text)} of the marked code blocks, and the output block after a python one."""
    text = open(README, encoding="utf-8").read()
    found = {}
    for m in re.finditer(r"<!-- readme-test: (\S+) -->\n```(\w*)\n(.*?)```", text, re.S):
        name, lang, body = m.group(1), m.group(2), m.group(3)
        expected = None
        if lang == "python":
            after = re.search(r"```\n(.*?)```", text[m.end():], re.S)
            expected = after.group(1) if after else ""
        found[name] = (lang, body, expected)
    return found


def normalize(text):
    text = re.sub(r"\b49\d{14}(\d{40})\b", r"49<EPOCH>\1", text)
    text = re.sub(r'("(?:Next)?ShardIterator": ?")[A-Za-z0-9+/=]+"', r'\1<ITERATOR>"', text)
    text = re.sub(r'("(?:ApproximateArrival|StreamCreation)Timestamp": ?)[0-9.]+', r"\1<TIME>", text)
    text = re.sub(r'("version":")[^"]*"', r'\1<VERSION>"', text)
    text = re.sub(r'("uptime_seconds":)\d+', r"\1<N>", text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def shell_steps(body):
    """[(command, expected output)] from "$ command" lines and the lines after them."""
    steps = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append([line[2:], []])
        elif steps:
            steps[-1][1].append(line)
    return [(cmd, "\n".join(out)) for cmd, out in steps]


class Readme(unittest.TestCase):

    def setUp(self):
        self.emu = Emulator()

    def tearDown(self):
        rc, log = self.emu.close()
        self.assertEqual(rc, 0, log)

    def port(self, text):
        text = re.sub(r"(^|\s)bin/kintape ", lambda m: m.group(1) + kintape_bin() + " ", text)
        return text.replace("127.0.0.1:4566", f"127.0.0.1:{self.emu.port}")

    def run_shell(self, name):
        lang, body, _ = blocks()[name]
        steps = shell_steps(body)
        self.assertTrue(steps, f"README block {name} has no commands")
        script = []
        for i, (cmd, _) in enumerate(steps):
            script.append(f"echo '@@step {i}@@'")
            script.append(self.port(cmd))
        env = client_env()
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
            env.pop(k, None)  # the README sets them itself
        with tempfile.TemporaryDirectory(prefix="kintape-readme-") as cwd:  # files the block writes go here
            p = subprocess.run(["bash", "-e", "-c", "\n".join(script)], capture_output=True, text=True, env=env,
                               timeout=300, cwd=cwd)
        self.assertEqual(p.returncode, 0, p.stderr)
        outputs = re.split(r"@@step \d+@@\n?", p.stdout)[1:]
        self.assertEqual(len(outputs), len(steps))
        for (cmd, expected), got in zip(steps, outputs):
            if "/health" in cmd:
                # Counters depend on what ran before; the shape and the stream count must match.
                expected = re.sub(r'"requests":\d+', '"requests":<N>', expected)
                got = re.sub(r'"requests":\d+', '"requests":<N>', got)
            self.assertEqual(normalize(got), normalize(expected), f"README command: {cmd}")

    def test_aws_cli_quickstart(self):
        self.run_shell("aws-cli")

    def test_curl(self):
        self.run_shell("curl")

    def test_replay(self):
        self.run_shell("replay")

    def test_boto3(self):
        _, code, expected = blocks()["boto3"]
        p = subprocess.run(["python3", "-c", self.port(code)], capture_output=True, text=True, env=client_env(),
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(normalize(p.stdout), normalize(expected))

    def test_every_marked_block_is_tested(self):
        self.assertEqual(sorted(blocks()), ["aws-cli", "boto3", "curl", "replay"])


if __name__ == "__main__":
    unittest.main()
