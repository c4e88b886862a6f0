{{/*
Chart name, truncated to 63 characters (DNS label limit).
*/}}
{{- define "ocpp-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: <release>-<chart> unless the release name already contains the chart name.
Kept to 53 characters so "<fullname>-dashboard" still fits in 63.
*/}}
{{- define "ocpp-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 53 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 53 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 53 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ocpp-gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object.
*/}}
{{- define "ocpp-gateway.labels" -}}
helm.sh/chart: {{ include "ocpp-gateway.chart" . }}
{{ include "ocpp-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ocpp-gateway
{{- end }}

{{/*
Selector labels: immutable on the Deployment, keep them minimal.
*/}}
{{- define "ocpp-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ocpp-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ocpp-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ocpp-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference: repository@digest, or repository:tag (tag defaults to appVersion).
*/}}
{{- define "ocpp-gateway.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/*
Secret holding the MQTT password: the user's existing one, or the one this chart creates.
Empty when there is no password at all.
*/}}
{{- define "ocpp-gateway.mqttSecretName" -}}
{{- if .Values.mqtt.existingSecret }}
{{- .Values.mqtt.existingSecret }}
{{- else if .Values.mqtt.password }}
{{- include "ocpp-gateway.fullname" . }}-mqtt
{{- end }}
{{- end }}

{{- define "ocpp-gateway.mqttSecretPasswordKey" -}}
{{- if .Values.mqtt.existingSecret }}
{{- .Values.mqtt.existingSecretPasswordKey }}
{{- else }}
{{- print "mqtt-password" }}
{{- end }}
{{- end }}

{{/*
Cluster mode is on when the gateway gets a Redis URL (value or Secret) or Redis Cluster seed
nodes. "true" or empty.
*/}}
{{- define "ocpp-gateway.externalRedis" -}}
{{- if or .Values.redis.url .Values.redis.clusterNodes (and .Values.redis.existingSecret .Values.redis.existingSecretUrlKey) }}
{{- print "true" }}
{{- end }}
{{- end }}

{{- define "ocpp-gateway.redisEnabled" -}}
{{- if or (include "ocpp-gateway.externalRedis" .) .Values.bundledRedis.enabled }}
{{- print "true" }}
{{- end }}
{{- end }}

{{/*
The Redis URL the gateway uses: redis.url, or the bundled Redis Service. Empty for Redis
Cluster seeds and for a URL taken from a Secret.
*/}}
{{- define "ocpp-gateway.redisUrl" -}}
{{- if .Values.redis.url }}
{{- .Values.redis.url }}
{{- else if and .Values.bundledRedis.enabled (not (include "ocpp-gateway.externalRedis" .)) }}
{{- printf "redis://%s-redis:%d" (include "ocpp-gateway.fullname" .) (.Values.bundledRedis.port | int) }}
{{- end }}
{{- end }}

{{/*
The broker URL the gateway uses: mqtt.url, or the bundled mosquitto Service. Empty: each pod's
embedded broker (single replica only).
*/}}
{{- define "ocpp-gateway.mqttUrl" -}}
{{- if .Values.mqtt.url }}
{{- .Values.mqtt.url }}
{{- else if .Values.bundledBroker.enabled }}
{{- printf "mqtt://%s-mosquitto:%d" (include "ocpp-gateway.fullname" .) (.Values.bundledBroker.port | int) }}
{{- end }}
{{- end }}

{{/*
Labels of a bundled component (redis, mosquitto): the release's, with its own name.
*/}}
{{- define "ocpp-gateway.componentSelectorLabels" -}}
app.kubernetes.io/name: {{ include "ocpp-gateway.name" .root }}-{{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{- define "ocpp-gateway.componentLabels" -}}
helm.sh/chart: {{ include "ocpp-gateway.chart" .root }}
{{ include "ocpp-gateway.componentSelectorLabels" . }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: ocpp-gateway
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
terminationGracePeriodSeconds: explicit value, or drainSeconds + 15 (preStop sleep, MQTT flush),
+ 5 in cluster mode (the pod waits up to 5 s for its forwarded commands before it leaves).
*/}}
{{- define "ocpp-gateway.terminationGracePeriodSeconds" -}}
{{- if .Values.terminationGracePeriodSeconds }}
{{- .Values.terminationGracePeriodSeconds | int }}
{{- else if include "ocpp-gateway.redisEnabled" . }}
{{- add (.Values.gateway.drainSeconds | int) 20 }}
{{- else }}
{{- add (.Values.gateway.drainSeconds | int) 15 }}
{{- end }}
{{- end }}

{{/*
Checks that a schema cannot express. Rendered (as nothing) by the Deployment.
*/}}
{{- define "ocpp-gateway.validate" -}}
{{- $multi := or .Values.autoscaling.enabled (gt (.Values.replicaCount | int) 1) }}
{{- if and $multi (not (include "ocpp-gateway.mqttUrl" .)) }}
{{- fail "a broker is required when running more than one replica (replicaCount > 1 or autoscaling.enabled): each pod's embedded broker only serves its own charge points. Keep bundledBroker.enabled=true, or set mqtt.url=mqtt://broker:1883, or use replicaCount=1 for a single-node trial." }}
{{- end }}
{{- if and $multi (not (include "ocpp-gateway.redisEnabled" .)) }}
{{- fail "Redis is required when running more than one replica (replicaCount > 1 or autoscaling.enabled): without it a pod cannot route a command to the pod that holds the charge point's socket. Keep bundledRedis.enabled=true, or set redis.url (--set redis.url=redis://redis:6379), redis.clusterNodes, or redis.existingSecret with redis.existingSecretUrlKey; or use replicaCount=1 for a single-node trial." }}
{{- end }}
{{- if and .Values.bundledRedis.enabled (include "ocpp-gateway.externalRedis" .) }}
{{- fail "redis: an external Redis is configured (redis.url, redis.clusterNodes or redis.existingSecret) while bundledRedis.enabled is true; set bundledRedis.enabled=false." }}
{{- end }}
{{- if and .Values.bundledBroker.enabled .Values.mqtt.url }}
{{- fail "mqtt: mqtt.url points at an external broker while bundledBroker.enabled is true; set bundledBroker.enabled=false." }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.existingSecret) }}
{{- fail "tls.enabled needs tls.existingSecret: a Secret of type kubernetes.io/tls (keys tls.crt and tls.key) holding the gateway's certificate." }}
{{- end }}
{{- if and (eq .Values.auth.mode "basic") (not (or .Values.auth.existingSecret .Values.auth.httpUrl)) }}
{{- fail "auth.mode=basic needs a credential store: auth.existingSecret (a Secret with the credentials file) or auth.httpUrl." }}
{{- end }}
{{- if and (eq .Values.auth.mode "client-cert") (not (or .Values.tls.enabled .Values.auth.clientCertHeader)) }}
{{- fail "auth.mode=client-cert needs the certificate: tls.enabled (TLS on the gateway) or auth.clientCertHeader with auth.trustedProxies (TLS at a proxy that forwards it)." }}
{{- end }}
{{- if and .Values.auth.clientCertHeader (not .Values.auth.trustedProxies) }}
{{- fail "auth.clientCertHeader needs auth.trustedProxies: the header is only believed from those proxies." }}
{{- end }}
{{- if and .Values.redis.url .Values.redis.clusterNodes }}
{{- fail "redis: set either url (standalone Redis) or clusterNodes (Redis Cluster), not both." }}
{{- end }}
{{- if and (or .Values.redis.existingSecretPasswordKey .Values.redis.existingSecretUsernameKey) (not .Values.redis.existingSecret) }}
{{- fail "redis.existingSecretPasswordKey and redis.existingSecretUsernameKey need redis.existingSecret (the Secret to read them from)." }}
{{- end }}
{{- if and (include "ocpp-gateway.redisEnabled" .) (lt (.Values.redis.nodeTtlMs | int) (mul (.Values.redis.nodeHeartbeatMs | int) 2)) }}
{{- fail (printf "redis.nodeTtlMs (%d) must be at least twice redis.nodeHeartbeatMs (%d): the gateway refuses to start otherwise." (.Values.redis.nodeTtlMs | int) (.Values.redis.nodeHeartbeatMs | int)) }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (not (kindIs "invalid" .Values.podDisruptionBudget.maxUnavailable)) (not (kindIs "invalid" .Values.podDisruptionBudget.minAvailable)) }}
{{- fail "podDisruptionBudget: set only one of maxUnavailable and minAvailable (set the other to null)." }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (.Values.autoscaling.minReplicas | int) (.Values.autoscaling.maxReplicas | int)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas." }}
{{- end }}
{{- if .Values.orderKeeping.enabled }}
{{- if not (and (include "ocpp-gateway.mqttUrl" .) (include "ocpp-gateway.redisEnabled" .)) }}
{{- fail "orderKeeping.enabled needs cluster mode: a broker (bundledBroker.enabled=true or mqtt.url) and Redis (bundledRedis.enabled=true, redis.url, redis.clusterNodes or redis.existingSecret)." }}
{{- end }}
{{- if le (.Values.mqtt.sessionExpirySeconds | int64) 0 }}
{{- fail "orderKeeping.enabled needs mqtt.sessionExpirySeconds > 0: the router's persistent session holds the commands while it restarts." }}
{{- end }}
{{- range .Values.extraEnv }}
{{- if has .name (list "OCPP_GW_DOWNSTREAM_SUBSCRIBE" "OCPP_GW_ADOPT_SESSIONS" "OCPP_GW_DRAIN_UNSUBSCRIBE") }}
{{- fail (printf "extraEnv sets %s, which orderKeeping.enabled sets per pod: remove it from extraEnv." .name) }}
{{- end }}
{{- end }}
{{- end }}
{{- $grace := include "ocpp-gateway.terminationGracePeriodSeconds" . | int }}
{{- $needed := add (.Values.gateway.drainSeconds | int) (.Values.preStopSleepSeconds | int) 1 }}
{{- if lt $grace $needed }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + gateway.drainSeconds (%d): pods would be killed before their charge points are drained." $grace (sub $needed 1)) }}
{{- end }}
{{- end }}
