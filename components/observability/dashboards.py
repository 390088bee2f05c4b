"""Grafana dashboards as code (grafana-foundation-sdk): GPU fleet, inference, Ray clusters.

Rendered to JSON and shipped in ConfigMaps that Grafana's dashboard sidecar loads. Every query
names only metrics from ``components.observability.metrics_catalog`` (or our recording rules); a test checks
that and that each expression parses.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from grafana_foundation_sdk.builders import common, dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import LegendDisplayMode, LegendPlacement
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh

from .alert_rules import RequestErrors, error_ratio

# The chart's default datasource (grafana.sidecar.datasources.uid in kube-prometheus-stack's values).
DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")
# kube-prometheus-stack values: grafana.sidecar.dashboards.label / labelValue.
SIDECAR_LABEL = {"grafana_dashboard": "1"}
TAGS = ["ai-platform"]
RATE = "$__rate_interval"
ALLOCATED = 'exported_pod!=""'  # dcgm-exporter's pod label, renamed because the target has its own


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


def _target(query: Query, ref: str) -> prometheus.Dataquery:
    return prometheus.Dataquery().expr(query.expr).legend_format(query.legend or "__auto").ref_id(ref).datasource(DATASOURCE)


def graph(title: str, unit: str, *queries: Query, width: int = 12) -> timeseries.Panel:
    panel = (
        timeseries.Panel()
        .title(title)
        .unit(unit)
        .datasource(DATASOURCE)
        .height(8)
        .span(width)
        .legend(common.VizLegendOptions().show_legend(True).display_mode(LegendDisplayMode.TABLE).placement(LegendPlacement.BOTTOM))
    )
    for index, query in enumerate(queries):
        panel = panel.with_target(_target(query, chr(ord("A") + index)))
    return panel


def single_stat(title: str, unit: str, query: Query) -> stat.Panel:
    return stat.Panel().title(title).unit(unit).datasource(DATASOURCE).height(4).span(6).with_target(_target(query, "A"))


def label_variable(name: str, label: str, metric: str) -> dashboard.QueryVariable:
    return (
        dashboard.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(f"label_values({metric}, {label})")
        .include_all(True)
        .all_value(".*")
        .multi(True)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
    )


def new_dashboard(uid: str, title: str) -> dashboard.Dashboard:
    return dashboard.Dashboard(title).uid(uid).tags(TAGS).time("now-6h", "now").refresh("1m").timezone("utc").editable()


def gpu_fleet() -> dashboard.Dashboard:
    node = 'Hostname=~"$Hostname"'
    by_gpu = "{{Hostname}} GPU {{gpu}}"
    by_pod = "{{exported_namespace}}/{{exported_pod}}"
    memory_used = f"DCGM_FI_DEV_FB_USED{{{node}}} / (DCGM_FI_DEV_FB_USED{{{node}}} + DCGM_FI_DEV_FB_FREE{{{node}}})"
    return (
        new_dashboard("ai-platform-gpu-fleet", "AI platform / GPU fleet")
        .with_variable(label_variable("Hostname", "Hostname", "DCGM_FI_DEV_GPU_UTIL"))
        .with_row(dashboard.Row("Fleet"))
        .with_panel(single_stat("GPUs", "none", Query(f"count(DCGM_FI_DEV_GPU_UTIL{{{node}}})")))
        .with_panel(single_stat("GPUs allocated to pods", "none", Query(f"count(DCGM_FI_DEV_GPU_UTIL{{{node},{ALLOCATED}}})")))
        .with_panel(single_stat("Average utilization", "percent", Query(f"avg(DCGM_FI_DEV_GPU_UTIL{{{node}}})")))
        .with_panel(single_stat("Power draw", "watt", Query(f"sum(DCGM_FI_DEV_POWER_USAGE{{{node}}})")))
        .with_row(dashboard.Row("Per node and GPU"))
        .with_panel(graph("Utilization", "percent", Query(f"avg by (Hostname, gpu) (DCGM_FI_DEV_GPU_UTIL{{{node}}})", by_gpu)))
        .with_panel(graph("Memory used", "percentunit", Query(f"max by (Hostname, gpu) ({memory_used})", by_gpu)))
        .with_panel(graph("Power per node", "watt", Query(f"sum by (Hostname) (DCGM_FI_DEV_POWER_USAGE{{{node}}})", "{{Hostname}}")))
        .with_panel(graph("Temperature", "celsius", Query(f"max by (Hostname, gpu) (DCGM_FI_DEV_GPU_TEMP{{{node}}})", by_gpu)))
        .with_row(dashboard.Row("Per pod"))
        .with_panel(
            graph(
                "Utilization per pod",
                "percent",
                Query(f"avg by (exported_namespace, exported_pod) (DCGM_FI_DEV_GPU_UTIL{{{node},{ALLOCATED}}})", by_pod),
            )
        )
        .with_panel(
            graph(
                "Memory per pod",
                "decmbytes",
                Query(f"sum by (exported_namespace, exported_pod) (DCGM_FI_DEV_FB_USED{{{node},{ALLOCATED}}})", by_pod),
            )
        )
        .with_panel(
            graph(
                "Power per pod",
                "watt",
                Query(f"sum by (exported_namespace, exported_pod) (DCGM_FI_DEV_POWER_USAGE{{{node},{ALLOCATED}}})", by_pod),
            )
        )
        .with_panel(
            graph(
                "Temperature per pod",
                "celsius",
                Query(f"max by (exported_namespace, exported_pod) (DCGM_FI_DEV_GPU_TEMP{{{node},{ALLOCATED}}})", by_pod),
            )
        )
    )


def inference(request_errors: RequestErrors | None = None, predict_histogram: bool = True, vllm: bool = False) -> dashboard.Dashboard:
    """Panels only on what the stack's runtimes and gateway export (see ``rendered_dashboards``)."""
    ns = 'namespace=~"$namespace"'
    by_isvc = "by (namespace, inferenceservice)"
    legend = "{{namespace}}/{{inferenceservice}}"
    predictors = f'{ns},deployment=~".+-predictor.*"'

    def latency(quantile: float) -> Query:
        return Query(
            f"histogram_quantile({quantile}, sum by (namespace, inferenceservice, le) (rate(request_predict_seconds_bucket{{{ns}}}[{RATE}])))",
            f"p{round(quantile * 100)} {legend}",
        )

    board = (
        new_dashboard("ai-platform-inference", "AI platform / Inference")
        .with_variable(label_variable("namespace", "namespace", "kube_deployment_spec_replicas"))
        .with_row(dashboard.Row("Replicas"))
        .with_panel(
            graph(
                "Predictor replicas",
                "none",
                Query(
                    f"sum by (namespace, deployment) (kube_deployment_status_replicas_available{{{predictors}}})",
                    "available {{deployment}}",
                ),
                Query(f"sum by (namespace, deployment) (kube_deployment_spec_replicas{{{predictors}}})", "desired {{deployment}}"),
                width=24,
            )
        )
    )
    if predict_histogram:
        board = (
            board.with_row(dashboard.Row("Traffic"))
            .with_panel(
                graph(
                    "Predictions per second", "reqps", Query(f"sum {by_isvc} (rate(request_predict_seconds_count{{{ns}}}[{RATE}]))", legend)
                )
            )
            .with_panel(graph("Prediction latency", "s", latency(0.5), latency(0.95), latency(0.99)))
        )

    def first_token(quantile: float) -> Query:
        return Query(
            f"histogram_quantile({quantile}, sum by (namespace, inferenceservice, le)"
            f" (rate(vllm:time_to_first_token_seconds_bucket{{{ns}}}[{RATE}])))",
            f"p{round(quantile * 100)} {legend}",
        )

    if vllm:
        board = (
            board.with_row(dashboard.Row("LLM engine (vLLM)"))
            .with_panel(
                graph(
                    "Requests running and waiting (the autoscaler's signal)",
                    "none",
                    Query(f"sum {by_isvc} (vllm:num_requests_running{{{ns}}})", f"running {legend}"),
                    Query(f"sum {by_isvc} (vllm:num_requests_waiting{{{ns}}})", f"waiting {legend}"),
                )
            )
            .with_panel(graph("Time to first token", "s", first_token(0.5), first_token(0.95), first_token(0.99)))
        )
    if predict_histogram or vllm or request_errors is not None:
        board = board.with_row(dashboard.Row("Errors and objectives")).with_panel(
            objectives(request_errors, predict_histogram, vllm, ns, legend)
        )
    if request_errors is not None:
        source = "Knative queue-proxy" if request_errors == "knative" else "Envoy Gateway"
        errors = error_ratio(request_errors, RATE)
        board = board.with_panel(graph(f"Error ratio (5xx, {source})", "percentunit", Query(errors, legend)))
    return board


def objectives(request_errors: RequestErrors | None, predict_histogram: bool, vllm: bool, ns: str, legend: str) -> timeseries.Panel:
    """The SLIs the alerts burn: slow predictions, late first tokens and failed requests, where something measures them."""
    slis = [Query(f"inference:slow_requests:ratio_rate1h{{{ns}}}", legend)] if predict_histogram else []
    if vllm:
        slis.append(Query(f"inference:slow_first_tokens:ratio_rate1h{{{ns}}}", f"late first tokens {legend}"))
    if request_errors is not None:
        slis.append(Query(f"inference:request_errors:ratio_rate1h{{{ns}}}", f"errors {legend}"))
    return graph("Objective SLIs over 1h: slow, late and failed requests", "percentunit", *slis)


def ray_clusters() -> dashboard.Dashboard:
    cluster = 'ray_io_cluster=~"$ray_io_cluster"'
    by_cluster = "by (namespace, ray_io_cluster)"
    legend = "{{namespace}}/{{ray_io_cluster}}"
    return (
        new_dashboard("ai-platform-ray", "AI platform / Ray clusters")
        .with_variable(label_variable("ray_io_cluster", "ray_io_cluster", "ray_node_cpu_count"))
        .with_row(dashboard.Row("Nodes"))
        .with_panel(
            graph(
                "Nodes by type",
                "none",
                Query(
                    f"sum by (ray_io_cluster, NodeType) (autoscaler_active_nodes{{{cluster}}})", "active {{ray_io_cluster}} {{NodeType}}"
                ),
                Query(
                    f"sum by (ray_io_cluster, NodeType) (autoscaler_pending_nodes{{{cluster}}})", "pending {{ray_io_cluster}} {{NodeType}}"
                ),
            )
        )
        .with_panel(
            graph(
                "Logical resources in use",
                "none",
                Query(f'sum by (ray_io_cluster, Name) (ray_resources{{{cluster},State="USED"}})', "{{ray_io_cluster}} {{Name}}"),
            )
        )
        .with_row(dashboard.Row("Hardware"))
        .with_panel(
            graph(
                "CPU utilization",
                "percent",
                Query(f"avg by (ray_io_cluster, instance) (ray_node_cpu_utilization{{{cluster}}})", "{{instance}}"),
            )
        )
        .with_panel(
            graph(
                "GPU utilization",
                "percent",
                Query(f"avg by (ray_io_cluster, instance) (ray_node_gpus_utilization{{{cluster}}})", "{{instance}}"),
            )
        )
        .with_panel(
            graph(
                "Memory used",
                "percentunit",
                Query(f"sum {by_cluster} (ray_node_mem_used{{{cluster}}}) / sum {by_cluster} (ray_node_mem_total{{{cluster}}})", legend),
            )
        )
        .with_panel(graph("GPU memory used", "decmbytes", Query(f"sum {by_cluster} (ray_node_gram_used{{{cluster}}})", legend)))
        .with_row(dashboard.Row("Work"))
        .with_panel(
            graph(
                "Tasks by state", "none", Query(f"sum by (ray_io_cluster, State) (ray_tasks{{{cluster}}})", "{{ray_io_cluster}} {{State}}")
            )
        )
        .with_panel(
            graph(
                "Actors by state",
                "none",
                Query(f"sum by (ray_io_cluster, State) (ray_actors{{{cluster}}})", "{{ray_io_cluster}} {{State}}"),
            )
        )
        .with_panel(
            graph("Object store memory", "bytes", Query(f"sum {by_cluster} (ray_object_store_memory{{{cluster}}})", legend), width=24)
        )
    )


DASHBOARDS = {"gpu-fleet": gpu_fleet, "inference": inference, "ray": ray_clusters}


def render(builder: dashboard.Dashboard) -> str:
    return json.dumps(json.loads(JSONEncoder(sort_keys=True, indent=None).encode(builder.build())), sort_keys=True)


def rendered_dashboards(request_errors: RequestErrors | None = None, predict_histogram: bool = True, vllm: bool = False) -> dict[str, str]:
    """Dashboard key -> its JSON model. ``request_errors``: what counts inference 5xx (see alert_rules);
    ``predict_histogram``: a KServe Python runtime serves; ``vllm``: a huggingface (vLLM) model serves."""
    builders = {**DASHBOARDS, "inference": lambda: inference(request_errors, predict_histogram, vllm)}
    return {key: render(build()) for key, build in builders.items()}


def queries(model: dict) -> list[str]:
    """Every PromQL expression of a dashboard model's panels (also panels inside collapsed rows)."""
    panels = [p for top in model.get("panels", []) for p in [top, *top.get("panels", [])]]
    return [t["expr"] for p in panels for t in p.get("targets", []) if t.get("expr")]


def variable_metrics(model: dict) -> list[str]:
    """Metrics the dashboard's ``label_values(<metric>, <label>)`` variables read."""
    found = [re.match(r"label_values\((\w+),", v.get("query", "")) for v in model.get("templating", {}).get("list", [])]
    return [m.group(1) for m in found if m]
