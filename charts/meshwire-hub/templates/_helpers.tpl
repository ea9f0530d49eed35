{{/* Name of the chart, overridable. */}}
{{- define "meshwire-hub.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects: the release name, with the chart name unless it holds it. */}}
{{- define "meshwire-hub.fullname" -}}
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

{{- define "meshwire-hub.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "meshwire-hub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "meshwire-hub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "meshwire-hub.relaySelectorLabels" -}}
app.kubernetes.io/name: {{ include "meshwire-hub.name" . }}-relay
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "meshwire-hub.relayLabels" -}}
helm.sh/chart: {{ include "meshwire-hub.chart" . }}
{{ include "meshwire-hub.relaySelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: relay
app.kubernetes.io/part-of: meshwire
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Whether the relay runs in the hub process ("true" or ""). */}}
{{- define "meshwire-hub.embeddedRelay" -}}
{{- if and .Values.relay.enabled (eq .Values.relay.mode "embedded") }}true{{- end }}
{{- end }}

{{- define "meshwire-hub.labels" -}}
helm.sh/chart: {{ include "meshwire-hub.chart" . }}
{{ include "meshwire-hub.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: hub
app.kubernetes.io/part-of: meshwire
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "meshwire-hub.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "meshwire-hub.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "meshwire-hub.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "meshwire-hub.caSecret" -}}
{{- default (printf "%s-ca" (include "meshwire-hub.fullname" .)) .Values.ca.existingSecret }}
{{- end }}

{{- define "meshwire-hub.hasCaSecret" -}}
{{- if or .Values.ca.existingSecret .Values.ca.certificate }}true{{- end }}
{{- end }}

{{/* The data directory on the volume: the file store, tokens, revocations, ca/ and admin/. */}}
{{- define "meshwire-hub.dataDir" -}}/var/lib/meshwire-hub{{- end }}

{{/* The content of hub.yaml. */}}
{{- define "meshwire-hub.config" -}}
data-dir: {{ include "meshwire-hub.dataDir" . | quote }}
listen: "0.0.0.0:{{ .Values.grpcPort }}"
mesh: {{ .Values.mesh | quote }}
metrics-listen: {{ if .Values.metrics.enabled }}"0.0.0.0:{{ .Values.metrics.port }}"{{ else }}"off"{{ end }}
cert-validity: {{ .Values.config.certValidity | quote }}
bookmark-interval: {{ .Values.config.bookmarkInterval | quote }}
snapshot-chunk-size: "{{ .Values.config.snapshotChunkSize | int64 }}"
max-concurrent-snapshots: "{{ .Values.config.maxConcurrentSnapshots | int64 }}"
max-waiting-snapshots: "{{ .Values.config.maxWaitingSnapshots | int64 }}"
overload-retry-after: {{ .Values.config.overloadRetryAfter | quote }}
retained-entries: "{{ .Values.config.retainedEntries | int64 }}"
checkpoint-interval: "{{ .Values.config.checkpointInterval | int64 }}"
enroll-rate: {{ .Values.config.enrollRate | quote }}
announce-rate: {{ .Values.config.announceRate | quote }}
max-message-bytes: "{{ .Values.config.maxMessageBytes | int64 }}"
max-cidr-prefix: {{ .Values.config.maxCidrPrefix | quote }}
default-peering: {{ .Values.config.defaultPeering | default "allow" | quote }}
{{- if .Values.relay.enabled }}
{{- if eq .Values.relay.mode "embedded" }}
relay-listen: "0.0.0.0:{{ .Values.relay.port }}"
{{- end }}
relays: {{ join "," .Values.relay.advertise | quote }}
{{- end }}
{{- with .Values.etcd.endpoints }}
# Several replicas share one etcd (mutual TLS; the client Secret is mounted at /etc/meshwire-hub/etcd).
store: etcd
etcd-endpoints: {{ join "," . | quote }}
etcd-ca: /etc/meshwire-hub/etcd/ca.crt
etcd-cert: /etc/meshwire-hub/etcd/tls.crt
etcd-key: /etc/meshwire-hub/etcd/tls.key
etcd-prefix: {{ $.Values.etcd.prefix | quote }}
{{- end }}
{{- end }}
