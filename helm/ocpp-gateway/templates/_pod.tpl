{{/*
The gateway pod template, shared by the Deployment and, with orderKeeping.enabled, the router
StatefulSet (docs/architecture.md §5.14). Argument: dict "root" (the chart context) "router"
(true for the router pod). Off, the Deployment's pods render exactly as without the option.
*/}}
{{- define "ocpp-gateway.podTemplate" -}}
{{- $router := .router }}
{{- with .root }}
{{- $mqttSecret := include "ocpp-gateway.mqttSecretName" . }}
{{- $mqttUrl := include "ocpp-gateway.mqttUrl" . }}
{{- $redisUrl := include "ocpp-gateway.redisUrl" . }}
{{- $selectorLabels := include "ocpp-gateway.selectorLabels" . }}
{{- if $router }}
{{- $selectorLabels = include "ocpp-gateway.componentSelectorLabels" (dict "root" . "component" "router") }}
{{- end }}
{{- $podAnnotations := dict "kubectl.kubernetes.io/default-container" "gateway" }}
{{- if and .Values.mqtt.password (not .Values.mqtt.existingSecret) }}
{{- $_ := set $podAnnotations "checksum/mqtt-secret" (include (print .Template.BasePath "/secret.yaml") . | sha256sum) }}
{{- end }}
{{- range $key, $value := .Values.podAnnotations }}
{{- $_ := set $podAnnotations $key $value }}
{{- end -}}
metadata:
  annotations:
    {{- toYaml $podAnnotations | nindent 4 }}
  labels:
    {{- $selectorLabels | nindent 4 }}
    app.kubernetes.io/component: {{ ternary "router" "gateway" $router }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "ocpp-gateway.serviceAccountName" . }}
  automountServiceAccountToken: {{ .Values.serviceAccount.automountServiceAccountToken }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  # Must exceed preStopSleepSeconds + gateway.drainSeconds (the drain closes charge points
  # with 1012 over drainSeconds, then the process exits 0).
  terminationGracePeriodSeconds: {{ include "ocpp-gateway.terminationGracePeriodSeconds" . }}
  {{- with .Values.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: gateway
      image: {{ include "ocpp-gateway.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      ports:
        - name: ocpp
          containerPort: {{ .Values.gateway.port | int }}
          protocol: TCP
        - name: http
          containerPort: {{ .Values.gateway.httpPort | int }}
          protocol: TCP
        {{- if .Values.tls.enabled }}
        - name: ocpp-tls
          containerPort: {{ .Values.tls.port | int }}
          protocol: TCP
        {{- end }}
        {{- if not $mqttUrl }}
        - name: mqtt
          containerPort: {{ .Values.mqtt.embeddedPort | int }}
          protocol: TCP
        {{- end }}
      env:
        # Node id = pod name: unique per pod, stable for the pod's life, shown in logs,
        # metrics (ocpp_gateway_build_info{node}) and MQTT user properties.
        - name: OCPP_GW_NODE_ID
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: OCPP_GW_HOST
          value: {{ .Values.gateway.host | quote }}
        - name: OCPP_GW_PORT
          value: {{ .Values.gateway.port | int | quote }}
        - name: OCPP_GW_PATH
          value: {{ .Values.gateway.path | quote }}
        - name: OCPP_GW_HTTP_PORT
          value: {{ .Values.gateway.httpPort | int | quote }}
        - name: OCPP_GW_TOPIC_PREFIX
          value: {{ .Values.gateway.topicPrefix | quote }}
        - name: OCPP_GW_LOG_LEVEL
          value: {{ .Values.gateway.logLevel | quote }}
        - name: OCPP_GW_SCHEMA_VALIDATION
          value: {{ .Values.gateway.schemaValidation | quote }}
        - name: OCPP_GW_HEARTBEAT_INTERVAL_S
          value: {{ .Values.gateway.heartbeatIntervalS | int | quote }}
        - name: OCPP_GW_CALL_TIMEOUT_MS
          value: {{ .Values.gateway.callTimeoutMs | int | quote }}
        - name: OCPP_GW_MAX_FRAME_BYTES
          value: {{ .Values.gateway.maxFrameBytes | int | quote }}
        - name: OCPP_GW_DRAIN_SECONDS
          value: {{ .Values.gateway.drainSeconds | int | quote }}
        {{- if $mqttUrl }}
        - name: OCPP_GW_MQTT_URL
          value: {{ $mqttUrl | quote }}
        # Persistent session per pod (client id ocpp-gw-<pod name>): commands not yet
        # answered stay at the broker if the pod dies, for a survivor to adopt.
        - name: OCPP_GW_MQTT_SESSION_EXPIRY_S
          value: {{ .Values.mqtt.sessionExpirySeconds | int64 | quote }}
        {{- else }}
        - name: OCPP_GW_EMBEDDED_MQTT_PORT
          value: {{ .Values.mqtt.embeddedPort | int | quote }}
        {{- end }}
        {{- if and .Values.mqtt.existingSecret .Values.mqtt.existingSecretUsernameKey }}
        - name: OCPP_GW_MQTT_USERNAME
          valueFrom:
            secretKeyRef:
              name: {{ .Values.mqtt.existingSecret }}
              key: {{ .Values.mqtt.existingSecretUsernameKey }}
        {{- else if .Values.mqtt.username }}
        - name: OCPP_GW_MQTT_USERNAME
          value: {{ .Values.mqtt.username | quote }}
        {{- end }}
        {{- if $mqttSecret }}
        - name: OCPP_GW_MQTT_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {{ $mqttSecret }}
              key: {{ include "ocpp-gateway.mqttSecretPasswordKey" . }}
        {{- end }}
        {{- if include "ocpp-gateway.redisEnabled" . }}
        # Cluster mode: ownership registry, route bus and node liveness in Redis.
        {{- if $redisUrl }}
        - name: OCPP_GW_REDIS_URL
          value: {{ $redisUrl | quote }}
        {{- else if .Values.redis.clusterNodes }}
        - name: OCPP_GW_REDIS_CLUSTER_NODES
          value: {{ join "," .Values.redis.clusterNodes | quote }}
        {{- else }}
        - name: OCPP_GW_REDIS_URL
          valueFrom:
            secretKeyRef:
              name: {{ .Values.redis.existingSecret }}
              key: {{ .Values.redis.existingSecretUrlKey }}
        {{- end }}
        {{- if and .Values.redis.existingSecret .Values.redis.existingSecretUsernameKey }}
        - name: OCPP_GW_REDIS_USERNAME
          valueFrom:
            secretKeyRef:
              name: {{ .Values.redis.existingSecret }}
              key: {{ .Values.redis.existingSecretUsernameKey }}
        {{- else if .Values.redis.username }}
        - name: OCPP_GW_REDIS_USERNAME
          value: {{ .Values.redis.username | quote }}
        {{- end }}
        {{- if and .Values.redis.existingSecret .Values.redis.existingSecretPasswordKey }}
        - name: OCPP_GW_REDIS_PASSWORD
          valueFrom:
            secretKeyRef:
              name: {{ .Values.redis.existingSecret }}
              key: {{ .Values.redis.existingSecretPasswordKey }}
        {{- end }}
        - name: OCPP_GW_REDIS_TLS
          value: {{ .Values.redis.tls | toString | quote }}
        - name: OCPP_GW_REDIS_PREFIX
          value: {{ .Values.redis.prefix | quote }}
        - name: OCPP_GW_NODE_HEARTBEAT_MS
          value: {{ .Values.redis.nodeHeartbeatMs | int | quote }}
        - name: OCPP_GW_NODE_TTL_MS
          value: {{ .Values.redis.nodeTtlMs | int | quote }}
        - name: OCPP_GW_OWNER_TTL_S
          value: {{ .Values.redis.ownerTtlSeconds | int | quote }}
        {{- if not (kindIs "invalid" .Values.redis.routeTimeoutMs) }}
        - name: OCPP_GW_ROUTE_TIMEOUT_MS
          value: {{ .Values.redis.routeTimeoutMs | int | quote }}
        {{- end }}
        {{- if .Values.orderKeeping.enabled }}
        # Order keeping: the router alone holds the downstream shared subscription, and no pod
        # adopts its MQTT session, which waits at the broker for the router to come back; a
        # draining router keeps it too, so commands published meanwhile wait there as well.
        - name: OCPP_GW_DOWNSTREAM_SUBSCRIBE
          value: {{ $router | toString | quote }}
        - name: OCPP_GW_ADOPT_SESSIONS
          value: "false"
        {{- if $router }}
        - name: OCPP_GW_DRAIN_UNSUBSCRIBE
          value: "false"
        {{- end }}
        {{- else }}
        - name: OCPP_GW_ADOPT_SESSIONS
          value: {{ .Values.redis.adoptSessions | toString | quote }}
        {{- end }}
        {{- end }}
        {{- include "ocpp-gateway.securityEnv" . | nindent 8 }}
        {{- with .Values.gateway.nodeOptions }}
        - name: NODE_OPTIONS
          value: {{ . | quote }}
        {{- end }}
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .Values.extraEnvFrom }}
      envFrom:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if .Values.startupProbe.enabled }}
      startupProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: {{ .Values.startupProbe.periodSeconds | int }}
        timeoutSeconds: {{ .Values.startupProbe.timeoutSeconds | int }}
        failureThreshold: {{ .Values.startupProbe.failureThreshold | int }}
      {{- end }}
      {{- if .Values.livenessProbe.enabled }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: {{ .Values.livenessProbe.periodSeconds | int }}
        timeoutSeconds: {{ .Values.livenessProbe.timeoutSeconds | int }}
        failureThreshold: {{ .Values.livenessProbe.failureThreshold | int }}
      {{- end }}
      {{- if .Values.readinessProbe.enabled }}
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        periodSeconds: {{ .Values.readinessProbe.periodSeconds | int }}
        timeoutSeconds: {{ .Values.readinessProbe.timeoutSeconds | int }}
        failureThreshold: {{ .Values.readinessProbe.failureThreshold | int }}
        successThreshold: {{ .Values.readinessProbe.successThreshold | int }}
      {{- end }}
      {{- if gt (.Values.preStopSleepSeconds | int) 0 }}
      lifecycle:
        # Let endpoints and load balancers forget this pod before SIGTERM starts the drain.
        preStop:
          exec:
            command: ["sleep", "{{ .Values.preStopSleepSeconds | int }}"]
      {{- end }}
      {{- with ternary .Values.orderKeeping.resources .Values.resources (and $router (not (empty .Values.orderKeeping.resources))) }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if .Values.tls.enabled }}
        - name: tls
          mountPath: /etc/ocpp-gateway/tls
          readOnly: true
        {{- end }}
        {{- if .Values.auth.existingSecret }}
        - name: auth
          mountPath: /etc/ocpp-gateway/auth
          readOnly: true
        {{- end }}
        {{- with .Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: tmp
      emptyDir:
        {{- if .Values.tmpVolume.sizeLimit }}
        sizeLimit: {{ .Values.tmpVolume.sizeLimit | quote }}
        {{- else }} {}
        {{- end }}
    {{- if .Values.tls.enabled }}
    - name: tls
      secret:
        secretName: {{ .Values.tls.existingSecret }}
    {{- end }}
    {{- if .Values.auth.existingSecret }}
    - name: auth
      secret:
        secretName: {{ .Values.auth.existingSecret }}
    {{- end }}
    {{- with .Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.topologySpreadConstraints }}
  {{- $constraints := list }}
  {{- range . }}
  {{- $constraint := deepCopy . }}
  {{- if not $constraint.labelSelector }}
  {{- $_ := set $constraint "labelSelector" (dict "matchLabels" ($selectorLabels | fromYaml)) }}
  {{- end }}
  {{- $constraints = append $constraints $constraint }}
  {{- end }}
  topologySpreadConstraints:
    {{- toYaml $constraints | nindent 4 }}
  {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
