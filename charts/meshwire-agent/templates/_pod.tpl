{{/* The agent's pod template, shared by the Deployment and the DaemonSet. */}}
{{- define "meshwire-agent.podTemplate" -}}
metadata:
  labels:
    {{- include "meshwire-agent.labels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    {{- if .Values.joinToken.value }}
    checksum/join-token: {{ .Values.joinToken.value | sha256sum }}
    {{- end }}
    {{- if .Values.hub.ca.certificate }}
    checksum/hub-ca: {{ .Values.hub.ca.certificate | sha256sum }}
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "meshwire-agent.serviceAccountName" . }}
  # Reflection reads and writes the API with the ServiceAccount's token (--kubeconfig=in-cluster):
  # mounted even where the ServiceAccount opts out; without reflection the agent needs none.
  automountServiceAccountToken: {{ .Values.reflection.enabled }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  hostNetwork: {{ .Values.hostNetwork }}
  {{- if .Values.hostNetwork }}
  dnsPolicy: ClusterFirstWithHostNet
  {{- end }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  {{- with .Values.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: agent
      image: {{ include "meshwire-agent.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      command:
        {{- toYaml .Values.command | nindent 8 }}
      args:
        - agent
        - --cluster-id={{ .Values.clusterId }}
        - --state-dir=/var/lib/meshwire
        - --hub={{ join "," .Values.hub.addresses }}
        {{- if include "meshwire-agent.hubCaSource" . }}
        - --hub-ca=/etc/meshwire/hub-ca/ca.crt
        {{- end }}
        {{- if include "meshwire-agent.hasJoinToken" . }}
        - --join-token-file=/etc/meshwire/join-token/token
        {{- end }}
        - --interface={{ .Values.wireguard.interface }}
        - --listen-port={{ .Values.wireguard.listenPort }}
        - --probe-port={{ include "meshwire-agent.probePort" . }}
        {{- with .Values.wireguard.interfaceAddress }}
        - --interface-address={{ . }}
        {{- end }}
        {{- with include "meshwire-agent.endpoints" . }}
        - --endpoint={{ . }}
        {{- end }}
        {{- with .Values.gateway.endpointFile }}
        - --endpoint-from-file={{ . }}
        {{- end }}
        - --pod-cidrs={{ join "," .Values.podCidrs }}
        {{- with .Values.serviceCidrs }}
        - --service-cidrs={{ join "," . }}
        {{- end }}
        {{- if .Values.reflection.enabled }}
        - --kubeconfig=in-cluster
        - --peer-listen=0.0.0.0:{{ .Values.reflection.peerPort }}
        {{- end }}
        {{- with include "meshwire-agent.peerChannel" . }}
        - --peer-channel={{ . }}
        {{- end }}
        {{- /* A list, even empty, is passed (empty turns remapping off); null keeps the agent's default. */}}
        {{- if kindIs "slice" .Values.remapPools }}
        - --remap-pools={{ join "," .Values.remapPools }}
        {{- end }}
        {{- with .Values.reservedCidrs }}
        - --reserved-cidrs={{ join "," . }}
        {{- end }}
        - --wireguard={{ .Values.wireguard.implementation }}
        - --reconcile-interval={{ .Values.reconcileInterval }}
        - --status-interval={{ .Values.statusInterval }}
        - --persistent-keepalive={{ .Values.persistentKeepalive }}
        - --link-down-after={{ .Values.linkDownAfter }}
        - --path-first-contact={{ .Values.path.firstContact }}
        - --path-misses={{ .Values.path.misses }}
        - --path-upgrade-after={{ .Values.path.upgradeAfter }}
        - --path-probe-backoff={{ .Values.path.probeBackoff }}
        - --path-probe-backoff-max={{ .Values.path.probeBackoffMax }}
        - --relay-idle-close={{ .Values.path.relayIdleClose }}
        - --rejoin-carry={{ .Values.rejoinCarry }}
        - --metrics-listen={{ .Values.metrics.bindAddress }}:{{ .Values.metrics.port }}
        {{- if .Values.acceptHubState }}
        - --accept-hub-state
        {{- end }}
        {{- range .Values.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      env:
        # The kubelet expands $(NODE_IP) in args: the default gateway endpoint with hostNetwork.
        - name: NODE_IP
          valueFrom:
            fieldRef:
              fieldPath: status.hostIP
        # $(POD_IP): the default peer channel with reflection, and a metrics bind address values may choose.
        - name: POD_IP
          valueFrom:
            fieldRef:
              fieldPath: status.podIP
        {{- with .Values.javaOptions }}
        # After the image's agent options (/opt/meshwire/agent.jvm-options) on java's command line: these win.
        - name: MESHWIRE_JAVA_OPTS
          value: {{ . | quote }}
        {{- end }}
      ports:
        - name: wireguard
          containerPort: {{ .Values.wireguard.listenPort }}
          protocol: UDP
        # Direct-path probes (relay fallback): the announced --probe-port.
        - name: probe
          containerPort: {{ include "meshwire-agent.probePort" . }}
          protocol: UDP
        - name: metrics
          containerPort: {{ .Values.metrics.port }}
          protocol: TCP
        {{- if .Values.reflection.enabled }}
        - name: peer
          containerPort: {{ .Values.reflection.peerPort }}
          protocol: TCP
        {{- end }}
      {{- with .Values.probes.startup }}
      {{- if .enabled }}
      startupProbe:
        httpGet:
          path: /metrics
          port: metrics
        periodSeconds: {{ .periodSeconds }}
        timeoutSeconds: {{ .timeoutSeconds }}
        failureThreshold: {{ .failureThreshold }}
      {{- end }}
      {{- end }}
      {{- with .Values.probes.readiness }}
      {{- if .enabled }}
      readinessProbe:
        httpGet:
          path: /ready
          port: metrics
        periodSeconds: {{ .periodSeconds }}
        timeoutSeconds: {{ .timeoutSeconds }}
        failureThreshold: {{ .failureThreshold }}
      {{- end }}
      {{- end }}
      {{- with .Values.probes.liveness }}
      {{- if .enabled }}
      livenessProbe:
        httpGet:
          path: /metrics
          port: metrics
        periodSeconds: {{ .periodSeconds }}
        timeoutSeconds: {{ .timeoutSeconds }}
        failureThreshold: {{ .failureThreshold }}
      {{- end }}
      {{- end }}
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: state
          mountPath: /var/lib/meshwire
        {{- if include "meshwire-agent.hubCaSource" . }}
        - name: hub-ca
          mountPath: /etc/meshwire/hub-ca
          readOnly: true
        {{- end }}
        {{- if include "meshwire-agent.hasJoinToken" . }}
        - name: join-token
          mountPath: /etc/meshwire/join-token
          readOnly: true
        {{- end }}
        - name: tmp
          mountPath: /tmp
        # The root file system is read-only: /run takes wireguard-go's control sockets
        # (/run/wireguard, how wg talks to it) and the iptables lock (/run/xtables.lock).
        - name: run
          mountPath: /run
        {{- if .Values.hostNetwork }}
        # With hostNetwork the tunnel interface is the node's, so the interface claims are too: a
        # second agent pod on this node with the same interface name is refused, naming the owner.
        - name: interface-claims
          mountPath: /run/meshwire
        {{- end }}
        {{- if include "meshwire-agent.tunDevice" . }}
        - name: tun
          mountPath: /dev/net/tun
        {{- end }}
  volumes:
    - name: state
      persistentVolumeClaim:
        claimName: {{ include "meshwire-agent.claimName" . }}
    {{- if eq (include "meshwire-agent.hubCaSource" .) "configmap" }}
    - name: hub-ca
      configMap:
        name: {{ include "meshwire-agent.hubCaConfigMap" . }}
        items:
          - key: {{ .Values.hub.ca.key }}
            path: ca.crt
    {{- else if eq (include "meshwire-agent.hubCaSource" .) "secret" }}
    - name: hub-ca
      secret:
        secretName: {{ .Values.hub.ca.existingSecret }}
        items:
          - key: {{ .Values.hub.ca.key }}
            path: ca.crt
    {{- end }}
    {{- if include "meshwire-agent.hasJoinToken" . }}
    - name: join-token
      secret:
        secretName: {{ include "meshwire-agent.joinTokenSecret" . }}
        defaultMode: 0400
        items:
          - key: {{ .Values.joinToken.key }}
            path: token
    {{- end }}
    - name: tmp
      emptyDir: {}
    - name: run
      emptyDir:
        medium: Memory
    {{- if .Values.hostNetwork }}
    - name: interface-claims
      hostPath:
        path: /run/meshwire
        type: DirectoryOrCreate
    {{- end }}
    {{- if include "meshwire-agent.tunDevice" . }}
    - name: tun
      hostPath:
        path: /dev/net/tun
        type: CharDevice
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
