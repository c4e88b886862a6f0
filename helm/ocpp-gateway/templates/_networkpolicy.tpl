{{/*
Egress of the gateway pods (and the orderKeeping router): DNS, Redis and the broker only.
*/}}
{{- define "ocpp-gateway.networkPolicyEgress" -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- if .Values.bundledRedis.enabled }}
- to:
    - podSelector:
        matchLabels:
          {{- include "ocpp-gateway.componentSelectorLabels" (dict "root" . "component" "redis") | nindent 10 }}
  ports:
    - port: {{ .Values.bundledRedis.port | int }}
      protocol: TCP
{{- end }}
{{- if .Values.bundledBroker.enabled }}
- to:
    - podSelector:
        matchLabels:
          {{- include "ocpp-gateway.componentSelectorLabels" (dict "root" . "component" "mosquitto") | nindent 10 }}
  ports:
    - port: {{ .Values.bundledBroker.port | int }}
      protocol: TCP
{{- end }}
{{- if .Values.networkPolicy.extraEgress }}
# External Redis / Redis Cluster / broker / credential endpoint.
{{- toYaml .Values.networkPolicy.extraEgress | nindent 0 }}
{{- else if or (include "ocpp-gateway.externalRedis" .) .Values.mqtt.url .Values.auth.httpUrl }}
# An external Redis, broker or credential service without networkPolicy.extraEgress: their
# addresses are unknown here, so egress stays open rather than cutting the gateway off.
- {}
{{- end }}
{{- end }}

{{/*
Peers of the bundled Redis and broker: the gateway pods, and the orderKeeping router.
*/}}
{{- define "ocpp-gateway.gatewayPeers" -}}
- podSelector:
    matchLabels:
      {{- include "ocpp-gateway.selectorLabels" . | nindent 6 }}
{{- if .Values.orderKeeping.enabled }}
- podSelector:
    matchLabels:
      {{- include "ocpp-gateway.componentSelectorLabels" (dict "root" . "component" "router") | nindent 6 }}
{{- end }}
{{- end }}

{{/*
Ingress on the HTTP port (metrics, health, admin API): networkPolicy.metricsFrom, or any pod.
*/}}
{{- define "ocpp-gateway.metricsIngress" -}}
- ports:
    - port: {{ .Values.gateway.httpPort | int }}
      protocol: TCP
  from:
    {{- if .Values.networkPolicy.metricsFrom }}
    {{- toYaml .Values.networkPolicy.metricsFrom | nindent 4 }}
    {{- else }}
    - namespaceSelector: {}
    {{- end }}
{{- end }}
