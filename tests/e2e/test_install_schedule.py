"""smelt install --schedule installs only what a schedule's job needs."""


def test_install_schedule_installs_only_its_plugins(project):
    project.write("""\
default_environment: dev
environments: [{name: dev}]
plugins:
  extractors:
  - name: tap-csv
    variant: smelt
  loaders:
  - name: target-sqlite
    variant: smelt
  utilities:
  - name: broken
    namespace: broken
    pip_url: smelt-no-such-package-xyz-123
jobs:
- name: load
  tasks: [tap-csv target-sqlite]
schedules:
- name: nightly
  job: load
  interval: '@daily'
""")
    proc = project.smelt("install", "--schedule", "nightly", check=0)
    assert "broken" not in proc.stderr
    proc = project.smelt("install", "--schedule", "nope")
    assert proc.returncode == 1 and "nope" in proc.stderr
    proc = project.smelt("install")
    assert proc.returncode == 1 and "broken" in proc.stderr
