package main

import "time"

// The management API a node serves on DIR/wbox.sock: JSON over HTTP.
//
//	POST /v1/plan     topologyRequest -> planResponse
//	POST /v1/deploy   topologyRequest -> planResponse
//	GET  /v1/status   -> statusResponse
//	GET  /v1/logs     ?task=NAME&follow=1&tail=N -> JSON lines of kernel.Event
//	POST /v1/stop     stopRequest -> stopResponse
//	POST /v1/invoke   invokeRequest -> invokeResponse
//
// Errors are apiError with a 4xx or 5xx status.

// topologyRequest carries a topology file: the client reads it, the node
// reads the components it names (the node runs on the same machine).
type topologyRequest struct {
	// File is the name errors use (as the user typed it), Dir the absolute
	// directory relative paths are resolved against.
	File string `json:"file"`
	Dir  string `json:"dir"`
	YAML string `json:"yaml"`
	// Who deploys (user@host), for the cluster's deployment history.
	Who string `json:"who,omitempty"`
}

type planResponse struct {
	Plan    string `json:"plan"` // linker.FormatPlan
	Empty   bool   `json:"empty"`
	Applied bool   `json:"applied"`
}

type apiError struct {
	Error string `json:"error"`
}

type statusResponse struct {
	Node    nodeInfo     `json:"node"`
	Boxes   []boxInfo    `json:"boxes"`
	Drivers []driverInfo `json:"drivers"`
	// Cluster is set when the node is part of a cluster.
	Cluster *clusterStatus `json:"cluster,omitempty"`
}

// clusterStatus is the cluster as a node sees it.
type clusterStatus struct {
	Name       string          `json:"name"`    // this node
	Cluster    string          `json:"cluster"` // the cluster's name
	Nodes      []memberInfo    `json:"nodes"`
	Deployment *deploymentInfo `json:"deployment,omitempty"`
	// Assignment is the revision of the placement, PlacedBy the node that
	// decided it, Reconciler the node holding the reconciler's lease now.
	Assignment uint64          `json:"assignment,omitempty"`
	PlacedBy   string          `json:"placed_by,omitempty"`
	Reconciler string          `json:"reconciler,omitempty"`
	Placement  []placementInfo `json:"placement,omitempty"`
	// History is the last deployments, oldest first.
	History []deploymentInfo `json:"history,omitempty"`
}

type memberInfo struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	// State is "alive", "alive (this node)" or "lost" (assigned tasks but
	// silent).
	State string `json:"state"`
	// Boxes are the boxes it serves; Assigned the tasks placed on it.
	Boxes    []string `json:"boxes,omitempty"`
	Assigned []string `json:"assigned,omitempty"`
}

type deploymentInfo struct {
	Revision uint64    `json:"revision"`
	File     string    `json:"file"`
	Who      string    `json:"who"`
	Via      string    `json:"via"`
	Time     time.Time `json:"time"`
}

type placementInfo struct {
	Task  string   `json:"task"`
	Nodes []string `json:"nodes"`
	Why   string   `json:"why"`
}

type nodeInfo struct {
	DataDir  string    `json:"data_dir"`
	Started  time.Time `json:"started"`
	Topology string    `json:"topology,omitempty"`
	PID      int       `json:"pid"`
}

type boxInfo struct {
	Name        string    `json:"name"`
	State       string    `json:"state"`
	Digest      string    `json:"digest"`
	Instances   []string  `json:"instances"`
	Started     time.Time `json:"started"`
	Restarts    int       `json:"restarts"`
	LastError   string    `json:"last_error,omitempty"`
	NextRestart time.Time `json:"next_restart,omitzero"`
	Calls       uint64    `json:"calls"`
	CallsOut    uint64    `json:"calls_out"`
	Errors      uint64    `json:"errors"`
	CallsPerSec float64   `json:"calls_per_sec"`
	InFlight    int       `json:"in_flight"`
	MemoryBytes uint64    `json:"memory_bytes"`
	Arrows      []string  `json:"arrows,omitempty"`
}

type driverInfo struct {
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	State       string    `json:"state"`
	Started     time.Time `json:"started"`
	Restarts    int       `json:"restarts"`
	LastError   string    `json:"last_error,omitempty"`
	Calls       uint64    `json:"calls"`
	Errors      uint64    `json:"errors"`
	CallsPerSec float64   `json:"calls_per_sec"`
}

type stopRequest struct {
	Boxes []string `json:"boxes"`
}

type stopResponse struct {
	Stopped []string `json:"stopped"`
}

type invokeRequest struct {
	Box    string   `json:"box"`
	Export string   `json:"export"`
	Args   []string `json:"args"` // WAVE, one per parameter
}

type invokeResponse struct {
	Func   string `json:"func"`
	Result string `json:"result"` // WAVE
}
