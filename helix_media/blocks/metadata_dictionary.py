"""The preset deflate dictionary of ``HXM2`` metadata (see :mod:`helix_media.blocks.layout`).

Representative compact metadata JSON (keys and common values of the codecs, framers, audio,
outer code and pool catalogue); deflate finds the near end of its window first, so the most
frequent strings come last. The dictionary is part of the archive format: the ``HXM2``
metadata of every archive ever written needs these exact bytes to decode. It must never
change; a better dictionary needs a new magic (``HXM3``) and a new constant beside this one.
"""

from __future__ import annotations

# fmt: off
METADATA_ZDICT_V2 = (
    # rare first: pool catalogues, other coders, framers and codecs
    b'{"format":"helix-pool","version":1,"writer":"helix-media 0.1.0","generation":1,'
    b'"items":[{"name":"notes.pdf","kind":"file","codec":"raw","data":[331,1005],'
    b'"metadata":[1030,4,3],"size":37677,"primers":["TAAGCCACGCTTGTGATGAC",'
    b'"GTCGTTAGCATACCAGGAAC"],"frames":null,"fps":null},{"name":"sample.mp4","kind":"video",'
    b'"codec":"helix","data":[0,331],"metadata":[1024,6,3],"size":27000,"primers":null,'
    b'"frames":48,"fps":[24,1]}]}'
    b'"coder":"verbatim","coder":"naive","coder":"goldman","coder":"paircode",'
    b'"coder":"tk-scone","coder":"raw",'
    b'"framer":{"name":"hidden-address","primer5":"TAAGCCACGCTTGTGATGAC",'
    b'"primer3":"GTCGTTAGCATACCAGGAAC","group_blocks":64,"overhead":0.5},"seed":0,'
    b'"payload_bits":272,'
    b'"framer":{"name":"fountain","primer5":"TAAGCCACGCTTGTGATGAC",'
    b'"primer3":"GTCGTTAGCATACCAGGAAC","overhead":0.35,"nsym":4,"strand_length":240},"seed":0,'
    b'"payload_bits":336,'
    b'"codec":"mjpeg","codec_params":{"version":1,"qscale":4,"width":320,"height":240},'
    b'"codec":"jpeg-dna","codec_params":{"version":1,"quality":75,"width":320,"height":240},'
    b'"video_codec":"libx264","video_codec":"libsvtav1",'
    # files (raw codec), shared address spaces, the outer code
    b'"kind":"file","codec":"raw","codec_params":{"version":1,"chunk":65536,"level":0,'
    b'"deflated":[0]},"file":{"name":"notes.pdf","size":37677,"sha256":"'
    b'"streams":{"file":{"first_strand":0,"strands":1005,"units":[[0,0,65536,0,65536,'
    b',"address_offset":331'
    b',"outer_code":{"scheme":"rs-cauchy","redundancy":0.1,"block_bits":300,'
    b'"data_strands":754,"symbol_bits":12}}'
    # the bitstream codec, its audio stream (opus)
    b'"codec":"bitstream","codec_params":{"version":1,"video_codec":"libx265",'
    b'"extradata":"AAAAAUABDAH//wFgAAADAJAAAAMAAAMAPJWYCQAAAAFCAQEBYAAAAwCQAAADAAADADygCggPFll'
    b'ZpJMrmgIAAAMAAgAAAwAwEAAAAAFEAcFytGJA","gop":16,"crf":26,"width":320,"height":240,'
    b'"coded_width":320,"coded_height":240,"frames":48},'
    b'"streams":{"video":{"first_strand":0,"strands":1041,"units":[[0,0,16,0,13591,],[1,16,16,'
    b'13591,],[2,32,16,],"params":{},"slice_bytes":0},'
    b'"audio":{"first_strand":331,"strands":423,"units":[[0,0,47688,0,7665,],[1,47688,48000,'
    b'7665,],[2,95688,568,15644,]],"params":{"codec":"opus","sample_rate":48000,'
    b'"layout":"stereo","source_sample_rate":48000,"bitrate":48000,"frame_size":960,'
    b'"packets_per_unit":50,"delay":312,"extradata":"T3B1c0hlYWQBAjgBgLsAAAAAAA==",'
    b'"samples":96256},"slice_bytes":0}}'
    # most frequent last: the helix codec and what every archive shares
    b'{"format":"helix-media","version":1,"writer":"helix-media 0.1.0","codec":"helix",'
    b'"codec_params":{"version":1,"gop":8,"mask":0.6,"slice_bytes":37,"models":{"encoder":"",'
    b'"decoder":"","predictor":"","context":""}},"video":{"width":320,"height":240,"fps":[24,'
    b'1],"frames":48},'
    b'"coder":"enumerative","framer":{"name":"helix","primer5":"TAAGCCACGCTTGTGATGAC",'
    b'"primer3":"GTCGTTAGCATACCAGGAAC"},"seed":0,"payload_bits":300,'
    b'"streams":{"video":{"first_strand":0,"strands":331,"units":[[0,0,8,0,],[1,8,8,],[2,16,8,'
    b'],[3,24,8,],[4,32,8,],[5,40,8,]],"params":{},"slice_bytes":37}'
)
# fmt: on

METADATA_ZDICT_V2_LEN = 2762
METADATA_ZDICT_V2_CRC32 = 0xAFD6A586
