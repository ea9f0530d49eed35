{{/*
Checks that need more than one value. Each message names the value. Every template includes this
first, so `helm template` and `helm install` stop before anything renders.
*/}}
{{- define "meshwire-hub.validate" -}}
{{- $errors := list }}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.etcd.endpoints) }}
{{- $errors = append $errors (printf "replicaCount: %v hub replicas need etcd.endpoints: the embedded file store serves one replica, and replicas that do not share one store would show agents different meshes" .Values.replicaCount) }}
{{- end }}
{{- if and .Values.etcd.endpoints (not .Values.etcd.existingSecret) }}
{{- $errors = append $errors "etcd.existingSecret: is required with etcd.endpoints (a Secret with ca.crt, tls.crt, tls.key: the hub speaks to etcd over mutual TLS only)" }}
{{- end }}
{{- if and .Values.ca.existingSecret (or .Values.ca.certificate .Values.ca.key) }}
{{- $errors = append $errors "ca: set either ca.existingSecret or ca.certificate with ca.key, not both" }}
{{- end }}
{{- if and .Values.ca.certificate (not .Values.ca.key) }}
{{- $errors = append $errors "ca.key: is required with ca.certificate (the hub signs with it)" }}
{{- end }}
{{- if and .Values.ca.key (not .Values.ca.certificate) }}
{{- $errors = append $errors "ca.certificate: is required with ca.key" }}
{{- end }}
{{- if gt (int .Values.config.checkpointInterval) (int .Values.config.retainedEntries) }}
{{- $errors = append $errors (printf "config.checkpointInterval: %v must not exceed config.retainedEntries (%v)" .Values.config.checkpointInterval .Values.config.retainedEntries) }}
{{- end }}
{{- if and .Values.serviceMonitor.enabled (not .Values.metrics.enabled) }}
{{- $errors = append $errors "serviceMonitor.enabled: needs metrics.enabled" }}
{{- end }}
{{- if and .Values.relay.enabled (not .Values.relay.advertise) }}
{{- $errors = append $errors "relay.advertise: is required with relay.enabled (the addresses agents dial, e.g. the -relay load balancer's name and 443)" }}
{{- end }}
{{- if and .Values.relay.enabled (eq .Values.relay.mode "deployment") (not .Values.relay.deployment.existingSecret) }}
{{- $errors = append $errors "relay.deployment.existingSecret: is required with relay.mode deployment (a Secret with hub-relay.crt, hub-relay.key, ca.crt from meshwire ca issue --role hub --name relay)" }}
{{- end }}
{{- if $errors }}
{{- fail (printf "\nmeshwire-hub: invalid values:\n- %s" (join "\n- " $errors)) }}
{{- end }}
{{- end }}
