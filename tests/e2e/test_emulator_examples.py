"""The producers and consumers in examples/ (AWS CLI, boto3, AWS SDK for
JavaScript v3) run against the emulator, and read each other's records."""
import fcntl
import json
import os
import subprocess
import tempfile
import unittest

from .kt import ROOT, Emulator, EmulatorTestCase, client_env

EX = os.path.join(ROOT, "examples")
JS = os.path.join(EX, "js")


def npm_install():
    """Installs @aws-sdk/client-kinesis into examples/js/node_modules (ignored by git) once.

    Test modules run in parallel processes: a lock keeps a second one from
    using (or starting) an install that is under way.
    """
    done = os.path.join(JS, "node_modules", ".kintape-installed")
    if os.path.exists(done):
        return
    with open(os.path.join(tempfile.gettempdir(), "kintape-npm-install.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(done):
            return
        subprocess.run(["npm", "install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund",
                        "--loglevel=error"], cwd=JS, check=True, timeout=600)
        open(done, "w").close()


def run(emu, cmd, *args, timeout=300):
    env = client_env({"KINESIS_ENDPOINT": emu.url, "NODE_NO_WARNINGS": "1"})
    p = subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, timeout=timeout,
                       cwd=os.path.dirname(cmd[-1]))
    if p.returncode != 0:
        raise AssertionError(f"{cmd} {args} exited {p.returncode}:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return p.stdout, p.stderr


PRODUCERS = {
    "aws-cli": ["sh", os.path.join(EX, "aws-cli", "producer.sh")],
    "boto3": ["python3", os.path.join(EX, "boto3", "producer.py")],
    "js": ["node", os.path.join(JS, "producer.js")],
}
CONSUMERS = {
    "aws-cli": ["sh", os.path.join(EX, "aws-cli", "consumer.sh")],
    "boto3": ["python3", os.path.join(EX, "boto3", "consumer.py")],
    "js": ["node", os.path.join(JS, "consumer.js")],
}


def orders(stdout):
    return sorted(json.loads(line)["order"] for line in stdout.splitlines() if line.strip())


class Examples(EmulatorTestCase, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        npm_install()
        super().setUpClass()

    def roundtrip(self, producer, consumer, stream, count):
        out, _ = run(self.emu, PRODUCERS[producer], stream, str(count))
        self.assertIn(f"put {count} records into {stream}", out)
        out, err = run(self.emu, CONSUMERS[consumer], stream)
        self.assertIn(f"read {count} records from {stream}", err)
        self.assertEqual(orders(out), list(range(count)))

    def test_aws_cli(self):
        self.roundtrip("aws-cli", "aws-cli", "ex-cli", 25)

    def test_boto3(self):
        self.roundtrip("boto3", "boto3", "ex-boto3", 1234)

    def test_javascript_sdk_v3(self):
        # The JS SDK sends every call over HTTP/2 with prior knowledge.
        self.roundtrip("js", "js", "ex-js", 1234)

    def test_clients_read_each_other(self):
        self.roundtrip("js", "boto3", "ex-js-boto3", 600)
        self.roundtrip("boto3", "js", "ex-boto3-js", 600)
        self.roundtrip("aws-cli", "js", "ex-cli-js", 10)


    def test_consumers_stop_quietly_when_the_reader_goes(self):
        run(self.emu, PRODUCERS["boto3"], "ex-pipe", "3000")
        env = client_env({"KINESIS_ENDPOINT": self.emu.url, "NODE_NO_WARNINGS": "1"})
        for name in ("boto3", "js", "aws-cli"):
            cmd = " ".join(CONSUMERS[name]) + " ex-pipe | head -2"
            p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=env, timeout=300,
                               cwd=EX)
            self.assertEqual(len(p.stdout.splitlines()), 2, (name, p.stdout[-500:]))
            self.assertNotIn("Traceback", p.stderr, name)
            self.assertNotIn("EPIPE", p.stderr, name)
            self.assertNotIn("Broken pipe", p.stderr, name)


class ExamplesUnderThrottling(unittest.TestCase):
    """With KINESIS_ERROR_PROBABILITY, the producers' retries still deliver every record once."""

    def test_producers_retry(self):
        npm_install()
        # 0.2: a record fails all 10 of a producer's attempts with odds 0.2^10 (1 in 10 million),
        # not 0.3^10 (1 in 170,000)
        emu = Emulator(env={"KINESIS_ERROR_PROBABILITY": "0.2"})
        try:
            for name in ("boto3", "js"):
                stream = f"thr-{name}"
                run(emu, PRODUCERS[name], stream, "900")
                # Read back with an emulator-independent client: throttling only affects puts.
                out, _ = run(emu, CONSUMERS["boto3"], stream)
                self.assertEqual(orders(out), list(range(900)))
        finally:
            rc, log = emu.close()
            self.assertEqual(rc, 0, log)


if __name__ == "__main__":
    unittest.main()
