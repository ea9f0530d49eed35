{{/*
Checks that need more than one value, or a value that values.schema.json lets through empty so
that `helm lint` on the defaults passes. Each message names the value. Every template includes
this first, so `helm template` and `helm install` stop before anything renders.
*/}}
{{- define "meshwire-agent.validate" -}}
{{- $errors := list }}
{{- if not .Values.clusterId }}
{{- $errors = append $errors "clusterId: is required (this cluster's ID in the mesh, a DNS label)" }}
{{- end }}
{{- if not .Values.hub.addresses }}
{{- $errors = append $errors "hub.addresses: at least one hub address (host:port) is required" }}
{{- end }}
{{- if not .Values.podCidrs }}
{{- $errors = append $errors "podCidrs: at least one pod CIDR is required" }}
{{- end }}
{{- if and (not .Values.gateway.endpoints) (not .Values.hostNetwork) (not .Values.gateway.endpointFile) }}
{{- $errors = append $errors "gateway.endpoints: at least one endpoint (host:port) peers can dial is required (the WireGuard Service's external address); only with hostNetwork does it default to the node's IP" }}
{{- end }}
{{- $caSources := 0 }}
{{- range (list .Values.hub.ca.certificate .Values.hub.ca.existingConfigMap .Values.hub.ca.existingSecret) }}{{ if . }}{{ $caSources = add1 $caSources }}{{ end }}{{ end }}
{{- if gt $caSources 1 }}
{{- $errors = append $errors "hub.ca: set only one of hub.ca.certificate, hub.ca.existingConfigMap, hub.ca.existingSecret" }}
{{- else if and .Release.IsInstall (eq $caSources 0) }}
{{- $errors = append $errors "hub.ca: one of hub.ca.certificate, hub.ca.existingConfigMap, hub.ca.existingSecret is required on install (the agent verifies the hub with it when it enrolls)" }}
{{- end }}
{{- if and .Values.joinToken.value .Values.joinToken.existingSecret }}
{{- $errors = append $errors "joinToken: set only one of joinToken.value, joinToken.existingSecret" }}
{{- else if and .Release.IsInstall (not (include "meshwire-agent.hasJoinToken" .)) }}
{{- $errors = append $errors "joinToken: one of joinToken.value, joinToken.existingSecret is required on install (the agent enrolls with it on first start)" }}
{{- end }}
{{- if and (eq .Values.workload.kind "DaemonSet") (not .Values.nodeSelector) }}
{{- $errors = append $errors "nodeSelector: workload.kind DaemonSet needs a nodeSelector that picks the gateway node (one cluster runs one agent, on one state volume)" }}
{{- end }}
{{- if eq (int (include "meshwire-agent.probePort" .)) (int .Values.wireguard.listenPort) }}
{{- $errors = append $errors (printf "wireguard.probePort: %v is wireguard.listenPort too; direct-path probes need a UDP port of their own" (include "meshwire-agent.probePort" .)) }}
{{- end }}
{{- if .Values.reflection.enabled }}
{{- if eq (int .Values.reflection.peerPort) (int .Values.metrics.port) }}
{{- $errors = append $errors (printf "reflection.peerPort: %v is metrics.port too; the peer channel and the metrics listener are both TCP listeners of the agent" .Values.reflection.peerPort) }}
{{- end }}
{{- range .Values.extraArgs }}
{{- if or (hasPrefix "--kubeconfig" .) (hasPrefix "--peer-listen" .) (hasPrefix "--peer-channel" .) }}
{{- $errors = append $errors (printf "extraArgs: %q is set by reflection.enabled (peerChannel, reflection.peerPort); the agent refuses a flag given twice" .) }}
{{- end }}
{{- end }}
{{- end }}
{{- if $errors }}
{{- fail (printf "\nmeshwire-agent: invalid values:\n- %s" (join "\n- " $errors)) }}
{{- end }}
{{- end }}
