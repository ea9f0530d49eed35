{{/* Name of the chart, overridable. */}}
{{- define "meshwire-agent.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects: the release name, with the chart name unless it holds it. */}}
{{- define "meshwire-agent.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of cluster-scoped objects: two releases of one name in two namespaces must not collide. */}}
{{- define "meshwire-agent.clusterScopedName" -}}
{{- printf "%s-%s" (include "meshwire-agent.fullname" .) .Release.Namespace | trunc 253 | trimSuffix "-" }}
{{- end }}

{{- define "meshwire-agent.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "meshwire-agent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "meshwire-agent.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "meshwire-agent.labels" -}}
helm.sh/chart: {{ include "meshwire-agent.chart" . }}
{{ include "meshwire-agent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: agent
app.kubernetes.io/part-of: meshwire
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "meshwire-agent.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "meshwire-agent.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "meshwire-agent.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The claim that holds the state directory. */}}
{{- define "meshwire-agent.claimName" -}}
{{- default (printf "%s-state" (include "meshwire-agent.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}

{{/* Where the hub CA comes from: "configmap", "secret" or "" (none). */}}
{{- define "meshwire-agent.hubCaSource" -}}
{{- if or .Values.hub.ca.certificate .Values.hub.ca.existingConfigMap }}configmap{{- else if .Values.hub.ca.existingSecret }}secret{{- end }}
{{- end }}

{{- define "meshwire-agent.hubCaConfigMap" -}}
{{- default (printf "%s-hub-ca" (include "meshwire-agent.fullname" .)) .Values.hub.ca.existingConfigMap }}
{{- end }}

{{- define "meshwire-agent.joinTokenSecret" -}}
{{- default (printf "%s-join-token" (include "meshwire-agent.fullname" .)) .Values.joinToken.existingSecret }}
{{- end }}

{{- define "meshwire-agent.hasJoinToken" -}}
{{- if or .Values.joinToken.value .Values.joinToken.existingSecret }}true{{- end }}
{{- end }}

{{/* Whether /dev/net/tun is mounted: explicit, else for every implementation but kernel. */}}
{{- define "meshwire-agent.tunDevice" -}}
{{- if kindIs "bool" .Values.wireguard.tunDevice }}{{ if .Values.wireguard.tunDevice }}true{{ end }}
{{- else if ne .Values.wireguard.implementation "kernel" }}true{{- end }}
{{- end }}

{{- define "meshwire-agent.servicePort" -}}
{{- default .Values.wireguard.listenPort .Values.service.port }}
{{- end }}

{{/*
The direct-path probe port (`--probe-port`): the agent binds it and announces it, and peers send
probes to it at the gateway endpoint's host, so by default it is the port peers reach from outside:
the Service's port + 1 (a NodePort Service with a fixed node port: that node port + 1), or with
hostNetwork the WireGuard port + 1.
*/}}
{{- define "meshwire-agent.probePort" -}}
{{- if .Values.wireguard.probePort }}{{ .Values.wireguard.probePort }}
{{- else if and .Values.service.enabled (not .Values.hostNetwork) (eq .Values.service.type "NodePort") .Values.service.nodePort }}{{ add1 .Values.service.nodePort }}
{{- else if and .Values.service.enabled (not .Values.hostNetwork) }}{{ add1 (include "meshwire-agent.servicePort" .) }}
{{- else }}{{ add1 .Values.wireguard.listenPort }}
{{- end }}
{{- end }}

{{/* Gateway endpoints: the values, else (hostNetwork) the node's IP, expanded by the kubelet. */}}
{{- define "meshwire-agent.endpoints" -}}
{{- if .Values.gateway.endpoints }}
{{- join "," .Values.gateway.endpoints }}
{{- else if .Values.hostNetwork }}
{{- printf "$(NODE_IP):%v" .Values.wireguard.listenPort }}
{{- end }}
{{- end }}

{{/*
The announced peer channel: the value, else (reflection) the pod's IP and the peer port, expanded by
the kubelet. Peers dial it through the tunnel, so it must lie in this cluster's pod CIDRs.
*/}}
{{- define "meshwire-agent.peerChannel" -}}
{{- if .Values.peerChannel }}
{{- .Values.peerChannel }}
{{- else if .Values.reflection.enabled }}
{{- printf "$(POD_IP):%v" .Values.reflection.peerPort }}
{{- end }}
{{- end }}

{{- define "meshwire-agent.metricsServiceEnabled" -}}
{{- if or .Values.metrics.service.enabled .Values.serviceMonitor.enabled }}true{{- end }}
{{- end }}

{{/* The managed-by label value on every object the agent's reflection owns (reflection's Mcs.MANAGER). */}}
{{- define "meshwire-agent.manager" -}}meshwire.io{{- end }}
