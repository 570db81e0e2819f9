// xds-client asks upstream istiod, over its plaintext xDS port, what it tells
// a waypoint proxy about one host: the endpoints (EDS) of the host's
// inbound-vip cluster, with the priority and locality of each. It connects as
// the waypoint pod named on the command line (istiod finds the pod by its
// address), so istiod computes that waypoint's view, locality included.
//
//	xds-client --addr 127.0.0.1:15010 --pod-ip 10.244.0.9 --pod httpbin-waypoint-x \
//	  --namespace httpbin --service-account httpbin-waypoint --cluster-id cluster1 --network cluster1-network \
//	  --region us-east-1 --zone us-east-1a --host in-ambient.httpbin.mesh.internal --port 8000
//
// Prints one line per endpoint, sorted by priority:
//
//	priority=<p> locality=<region>/<zone> endpoint=<address or tunnel target> weight=<w>
//
// and exits 1 when istiod sends no such cluster within --timeout.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"
)

const (
	clusterType  = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	endpointType = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
)

type options struct {
	addr, podIP, pod, namespace, serviceAccount, clusterID, network, region, zone, host string
	port                                                                                int
	timeout                                                                             time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "", "istiod's plaintext xDS address (host:port)")
	flag.StringVar(&o.podIP, "pod-ip", "", "the waypoint pod's address")
	flag.StringVar(&o.pod, "pod", "", "the waypoint pod's name")
	flag.StringVar(&o.namespace, "namespace", "", "the waypoint's namespace")
	flag.StringVar(&o.serviceAccount, "service-account", "", "the waypoint pod's service account")
	flag.StringVar(&o.clusterID, "cluster-id", "", "istiod's cluster ID")
	flag.StringVar(&o.network, "network", "", "the waypoint's network")
	flag.StringVar(&o.region, "region", "", "the waypoint's region")
	flag.StringVar(&o.zone, "zone", "", "the waypoint's zone")
	flag.StringVar(&o.host, "host", "", "the service's host")
	flag.IntVar(&o.port, "port", 0, "the service's port")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "how long to wait for istiod")
	flag.Parse()
	if o.addr == "" || o.podIP == "" || o.pod == "" || o.namespace == "" || o.host == "" || o.port == 0 {
		fmt.Fprintln(os.Stderr, "xds-client: --addr, --pod-ip, --pod, --namespace, --host and --port are required")
		os.Exit(2)
	}
	lines, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "xds-client:", err)
		os.Exit(1)
	}
	for _, line := range lines {
		fmt.Println(line)
	}
}

func node(o options) (*corev3.Node, error) {
	metadata, err := structpb.NewStruct(map[string]any{
		"NAMESPACE":       o.namespace,
		"CLUSTER_ID":      o.clusterID,
		"NETWORK":         o.network,
		"ISTIO_VERSION":   "1.29.0",
		"SERVICE_ACCOUNT": o.serviceAccount,
		"INSTANCE_IPS":    o.podIP,
		"LABELS":          map[string]any{},
	})
	if err != nil {
		return nil, err
	}
	return &corev3.Node{
		Id:       fmt.Sprintf("waypoint~%s~%s.%s~%s.svc.cluster.local", o.podIP, o.pod, o.namespace, o.namespace),
		Cluster:  o.pod,
		Locality: &corev3.Locality{Region: o.region, Zone: o.zone},
		Metadata: metadata,
	}, nil
}

func run(o options) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	conn, err := grpc.NewClient(o.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stream, err := discoveryv3.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		return nil, err
	}
	n, err := node(o)
	if err != nil {
		return nil, err
	}
	if err := stream.Send(&discoveryv3.DiscoveryRequest{Node: n, TypeUrl: clusterType}); err != nil {
		return nil, err
	}
	wanted := ""
	seen := []string{}
	for {
		response, err := stream.Recv()
		if err != nil {
			return nil, fmt.Errorf("no endpoints for %s:%d (clusters seen: %s): %w", o.host, o.port,
				strings.Join(seen, " "), err)
		}
		switch response.TypeUrl {
		case clusterType:
			for _, resource := range response.Resources {
				var c clusterv3.Cluster
				if err := resource.UnmarshalTo(&c); err != nil {
					return nil, err
				}
				seen = append(seen, c.Name)
				if strings.HasPrefix(c.Name, "inbound-vip|") &&
					strings.HasSuffix(c.Name, fmt.Sprintf("|%s", o.host)) &&
					strings.HasPrefix(c.Name, fmt.Sprintf("inbound-vip|%d|", o.port)) {
					wanted = c.Name
				}
			}
			if err := stream.Send(&discoveryv3.DiscoveryRequest{
				TypeUrl: clusterType, VersionInfo: response.VersionInfo, ResponseNonce: response.Nonce,
			}); err != nil {
				return nil, err
			}
			if wanted != "" {
				if err := stream.Send(&discoveryv3.DiscoveryRequest{
					TypeUrl: endpointType, ResourceNames: []string{wanted},
				}); err != nil {
					return nil, err
				}
			}
		case endpointType:
			for _, resource := range response.Resources {
				var assignment endpointv3.ClusterLoadAssignment
				if err := resource.UnmarshalTo(&assignment); err != nil {
					return nil, err
				}
				if assignment.ClusterName == wanted {
					return describe(&assignment), nil
				}
			}
		}
	}
}

func describe(assignment *endpointv3.ClusterLoadAssignment) []string {
	var lines []string
	for _, group := range assignment.Endpoints {
		locality := group.GetLocality().GetRegion() + "/" + group.GetLocality().GetZone()
		for _, lb := range group.LbEndpoints {
			weight := uint32(1)
			if lb.GetLoadBalancingWeight() != nil {
				weight = lb.GetLoadBalancingWeight().GetValue()
			}
			lines = append(lines, fmt.Sprintf("priority=%d locality=%s endpoint=%s weight=%d",
				group.Priority, locality, target(lb), weight))
		}
	}
	sort.Strings(lines)
	return lines
}

// target: where the endpoint leads. A waypoint's endpoints are tunnels
// (Envoy internal addresses) whose destination is in the "tunnel" metadata.
func target(lb *endpointv3.LbEndpoint) string {
	if tunnel, ok := lb.GetMetadata().GetFilterMetadata()["tunnel"]; ok {
		if destination, ok := tunnel.GetFields()["destination"]; ok {
			return destination.GetStringValue()
		}
	}
	address := lb.GetEndpoint().GetAddress()
	if socket := address.GetSocketAddress(); socket != nil {
		return fmt.Sprintf("%s:%d", socket.GetAddress(), socket.GetPortValue())
	}
	if internal := address.GetEnvoyInternalAddress(); internal != nil {
		return internal.GetServerListenerName() + "/" + internal.GetEndpointId()
	}
	return "?"
}
