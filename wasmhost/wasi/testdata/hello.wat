;; hello.wat: the smallest WASI 0.2 command, for package wasi's Example.
;; run() writes "hello from a component\n" to wasi:cli/stdout and returns
;; ok, or err when the write failed.
;;
;; Build (jco 1.35.0 needs the preopens work-around to read a path):
;;   NODE_OPTIONS=--import=$PWD/../../../components/internal/jco-preopens.mjs \
;;     ../../../node_modules/.bin/jco parse $PWD/hello.wat -o $PWD/hello.wasm
(component $C
  (import "wasi:io/error@0.2.0" (instance $error
    (export "error" (type (sub resource)))
  ))
  (alias export $error "error" (type $error-res))

  (import "wasi:io/streams@0.2.0" (instance $streams
    (alias outer $C $error-res (type $error-outer))
    (export "error" (type $err (eq $error-outer)))
    (export "output-stream" (type $os (sub resource)))
    (type $stream-error-def (variant (case "last-operation-failed" (own $err)) (case "closed")))
    (export "stream-error" (type $stream-error (eq $stream-error-def)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result (result (error $stream-error)))))
  ))
  (alias export $streams "output-stream" (type $output-stream))
  (alias export $streams "[method]output-stream.blocking-write-and-flush" (func $write))

  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer $C $output-stream (type $os-outer))
    (export "output-stream" (type $os (eq $os-outer)))
    (export "get-stdout" (func (result (own $os))))
  ))
  (alias export $stdout "get-stdout" (func $get-stdout))

  (core module $Mem (memory (export "memory") 1))
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "memory" (core memory $memory))

  (core func $get-stdout-lowered (canon lower (func $get-stdout)))
  ;; (self, ptr, len, retptr): the result is too big to return flat.
  (core func $write-lowered (canon lower (func $write) (memory $memory)))
  (core func $drop-stream (canon resource.drop $output-stream))

  (core module $Main
    (import "mem" "memory" (memory 1))
    (import "host" "get-stdout" (func $get-stdout (result i32)))
    (import "host" "write" (func $write (param i32 i32 i32 i32)))
    (import "host" "drop" (func $drop (param i32)))
    (data (i32.const 16) "hello from a component\n")
    (func (export "run") (result i32)
      (local $out i32)
      (local.set $out (call $get-stdout))
      (call $write (local.get $out) (i32.const 16) (i32.const 23) (i32.const 0))
      (call $drop (local.get $out))
      ;; The write's result<_, stream-error> discriminant is run's result.
      (i32.load8_u (i32.const 0)))
  )
  (core instance $main (instantiate $Main
    (with "mem" (instance $mem))
    (with "host" (instance
      (export "get-stdout" (func $get-stdout-lowered))
      (export "write" (func $write-lowered))
      (export "drop" (func $drop-stream))
    ))
  ))

  (func $run (result (result))
    (canon lift (core func $main "run")))
  (instance $run-iface (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run-iface))
)
