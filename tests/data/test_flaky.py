import pytest
from manyskills.data import flaky
from manyskills.data.flaky import flaky_cause, make_flaky_examples
from manyskills.data.records import CorpusFunction

CASES = [
    ("python", "def test_a():\n    start()\n    time.sleep(0.5)\n    assert done()", "time"),
    ("python", "def test_a():\n    t0 = datetime.now()\n    run()\n    assert datetime.now() - t0 < limit", "time"),
    ("python", "def test_a():\n    x = random.randint(0, 10)\n    assert f(x) >= 0", "random"),
    ("python", "def test_a():\n    random.seed(4)\n    x = random.randint(0, 10)\n    assert f(x) == 3", ""),
    ("python", "def test_a():\n    r = requests.get('https://api.github.com/x')\n    assert r.ok", "network"),
    ("python", "def test_a():\n    r = requests.get('http://localhost:8000/x')\n    assert r.ok", ""),
    ("python", "def test_a():\n    s = socket.socket(socket.AF_INET)\n    s.close()", "network"),
    ("python", "def test_a():\n    t = threading.Thread(target=work)\n    t.start()\n    assert q.get()", "concurrency"),
    ("python", "async def test_a():\n    res = await asyncio.gather(a(), b())\n    assert res", "concurrency"),
    ("python", "def test_a():\n    global CACHE\n    CACHE = {}\n    assert load() == 1", "order"),
    ("python", "def test_a():\n    os.environ['MODE'] = 'x'\n    assert mode() == 'x'", "order"),
    ("python", "def test_a():\n    assert os.environ['MODE'] == 'x'", ""),
    ("python", "def test_a():\n    names = os.listdir(d)\n    assert names == ['a', 'b']", "unordered"),
    ("python", "def test_a():\n    names = sorted(os.listdir(d))\n    assert names == ['a', 'b']", ""),
    ("python", "def test_a():\n    # time.sleep(1) was removed\n    assert 1 + 1 == 2", ""),
    ("javascript", "it('x', () => {\n  setTimeout(done, 100);\n  expect(a).toBe(1);\n})", "time"),
    ("javascript", "test('x', async () => {\n  const r = await fetch('https://example.net/a');\n  expect(r.ok).toBe(true);\n})", "network"),
    ("javascript", "it('x', () => {\n  const v = Math.random();\n  expect(v < 1).toBe(true);\n})", "random"),
    ("typescript", "it('x', async () => {\n  await Promise.all([a(), b()]);\n})", "concurrency"),
    ("java", "@Test\npublic void t() throws Exception {\n    Thread.sleep(100);\n    assertTrue(x);\n}", "time"),
    ("java", "@Test\npublic void t() {\n    Random r = new Random();\n    assertTrue(r.nextInt() != 5);\n}", "random"),
    ("java", "@Test\npublic void t() {\n    Random r = new Random(42);\n    assertEquals(1, r.nextInt(2));\n}", ""),
    ("java", "@Test\npublic void t() {\n    System.setProperty(\"a\", \"b\");\n    assertEquals(\"b\", get());\n}", "order"),
    ("go", "func TestX(t *testing.T) {\n\tgo worker(ch)\n\tif x != 1 {\n\t\tt.Fatal(\"bad\")\n\t}\n}", "concurrency"),
    ("go", "func TestX(t *testing.T) {\n\tvar wg sync.WaitGroup\n\twg.Add(1)\n\tgo func() { defer wg.Done() }()\n\twg.Wait()\n}", ""),
    ("go", "func TestX(t *testing.T) {\n\ttime.Sleep(10 * time.Millisecond)\n}", "time"),
    ("rust", "#[test]\nfn t() {\n    let h = thread::spawn(|| 1);\n    assert_eq!(h.join().unwrap(), 1);\n}", "concurrency"),
    ("cpp", "TEST(A, B) {\n  std::this_thread::sleep_for(std::chrono::milliseconds(5));\n  EXPECT_TRUE(x);\n}", "time"),
    ("c", "void test_x(void) {\n  int v = rand();\n  CHECK(v >= 0);\n}", "random"),
    ("python", "def test_a():\n    assert add(1, 2) == 3", ""),
]


@pytest.mark.parametrize("language,code,cause", CASES)
def test_flaky_cause(language, code, cause):
    assert flaky_cause(language, code) == cause


def test_make_flaky_examples_only_tests_and_weak_label_doc():
    fns = [
        CorpusFunction("1", "p", "python", "t.py", "test_a", CASES[0][1], True, "valid"),
        CorpusFunction("2", "p", "python", "t.py", "test_b", CASES[-1][1], True, "valid"),
        CorpusFunction("3", "p", "python", "m.py", "helper", CASES[0][1], False, "valid"),
    ]
    ex = make_flaky_examples(fns)
    assert [(e.label, e.cause) for e in ex] == [(1, "time"), (0, "")]
    assert all(e.split == "valid" for e in ex)
    assert "WEAK LABELS" in flaky.__doc__
    assert set(flaky.CAUSES) == {"time", "random", "network", "concurrency", "order", "unordered"}
